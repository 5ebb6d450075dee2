"""Request and response bodies, one module per area (never the table models).

The examples are structure only: no licensed toolkit wording appears here.
"""
