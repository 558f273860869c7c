"""repairs-gateway: the Repairs API v1 standard and a gateway that serves it."""

__version__ = "0.1.0"
