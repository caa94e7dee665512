"""End-to-end tests: the whole system started the way a user starts it (``make run``), as processes."""
