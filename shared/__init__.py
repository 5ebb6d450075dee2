"""What every service needs and nothing domain-specific (DESIGN.md §1)."""
