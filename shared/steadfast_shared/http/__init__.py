"""HTTP plumbing: the app factory, problem+json, auth dependencies, pagination, ETags, idempotency."""
