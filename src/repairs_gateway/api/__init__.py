"""The HTTP layer: FastAPI routes serving ``openapi/repairs-api.yaml``."""
