"""Built-in backends for councils with no supplier system: an address register and a calendar."""
