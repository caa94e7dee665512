"""The metrics service's event contract: it publishes nothing yet (KPI status changes are optional in the
SPEC); it consumes the staff, caseload and audit topics (see :mod:`steadfast_metrics.facts.projector`)."""

from steadfast_shared.events import EventRegistry

registry = EventRegistry(source="/steadfast/metrics")
