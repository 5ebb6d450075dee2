"""Bulk import of a partner's history (`python -m services.cli import FILE.jsonl`).

Each line of the file is one call to the referral or assessment API, so every record
passes the same validation, domain rules, audit and outbox as a live one. See
docs/migration.md.
"""
