"""Ledger: a tiny but real service used only by the shared library's integration tests.

It has everything a Steadfast service has (settings, metadata with the platform tables, one aggregate,
versioned events on ``ledger.events``, a router, Alembic migrations with their own version table), so
the tests exercise the shared plumbing exactly as the real services use it.
"""
