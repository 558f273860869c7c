"""Per-council configuration: the file's schema and its loader."""

from repairs_gateway.config.loader import ConfigError, GatewayConfig, load_config
from repairs_gateway.config.schema import CouncilFile, CouncilSpec

__all__ = ["ConfigError", "CouncilFile", "CouncilSpec", "GatewayConfig", "load_config"]
