"""The v1 operations, one module per resource, and the operational endpoints."""
