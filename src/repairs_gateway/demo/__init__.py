"""The demo: two councils on the built-in backends, with sample addresses. Simulated data."""
