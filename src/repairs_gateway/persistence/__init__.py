"""Persistence: tables, engine and migrations (SQLite by default, PostgreSQL in production)."""
