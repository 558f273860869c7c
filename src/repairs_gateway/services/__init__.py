"""The gateway's use cases: addresses, appointments, repairs and API clients."""
