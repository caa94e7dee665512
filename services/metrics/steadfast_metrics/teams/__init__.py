"""A team as its managers see it: each worker's caseload against their own limit."""
