"""Persistence: engine, models, queries and migrations. Never imports telegram."""
