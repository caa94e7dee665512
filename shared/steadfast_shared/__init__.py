"""Steadfast's common library.

Every service is built from the same parts, so that they look alike because they share this package
rather than because code is copied between them:

- :mod:`steadfast_shared.settings`: one validated settings class per service.
- :mod:`steadfast_shared.db`: metadata with a naming convention, engines and sessions, platform tables.
- :mod:`steadfast_shared.domain` and :mod:`steadfast_shared.uow`: aggregates record events; the unit of
  work writes them to the outbox in the same transaction as the change.
- :mod:`steadfast_shared.outbox`: the relay that publishes the outbox to Kafka.
- :mod:`steadfast_shared.events`: the CloudEvents envelope and the registry of versioned event types.
- :mod:`steadfast_shared.consumer`: the base for idempotent consumers with a dead-letter topic.
- :mod:`steadfast_shared.http`: the app factory, problem+json errors, auth, pagination, ETags,
  idempotency keys.
- :mod:`steadfast_shared.imports`: CSV bulk imports with row errors, atomic and partial modes.
- :mod:`steadfast_shared.testing`: the pytest plugin (real broker, real PostgreSQL).
"""
