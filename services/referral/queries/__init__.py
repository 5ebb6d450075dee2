"""Reads and writes, one module per area, with agency scoping inside every query."""
