"""The worker: runs the durable job queue (settle, book later, withdraw)."""
