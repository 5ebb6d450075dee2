"""Reads and writes, one module per area.

Toolkit definitions are reference data (no agency scoping). Assessments are
read by child, and only after the referral service has confirmed that the
caller may see the child: that rule lives there, not in these queries.
"""
