"""Request and response bodies, one module per area (never the table models)."""
