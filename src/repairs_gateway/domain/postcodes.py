"""UK postcodes. The normaliser is published to adapters with the ports
(``repairs_gateway.ports.normalise_postcode``); it is re-exported here for the gateway's own code."""

from repairs_gateway.ports.postcodes import (
    MAX_INPUT,
    NOT_A_POSTCODE,
    InvalidPostcode,
    normalise_postcode,
    not_a_postcode,
)

__all__ = ["MAX_INPUT", "NOT_A_POSTCODE", "InvalidPostcode", "normalise_postcode", "not_a_postcode"]
