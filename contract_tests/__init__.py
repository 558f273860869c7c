"""The Repairs API contract suite (see README.md)."""
