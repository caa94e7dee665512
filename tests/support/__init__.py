"""Test-only code shared by the test suites (a tiny service for the shared library's tests)."""
