"""How much the contract suite generates unless told otherwise (CI keeps these)."""

DEFAULT_EXAMPLES = 300
"""Generated requests per operation, half valid and half invalid."""

DEFAULT_SCENARIOS = 40
"""Random walks along the spec's links."""
