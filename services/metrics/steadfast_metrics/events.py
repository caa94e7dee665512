"""The metrics service's event contract: every version of the council's strategy it stores is published,
whole, on ``steadfast.strategy`` keyed by the council (the payload model is the shared library's, which
the caseload service reads it with). KPI status changes are not published (optional in the SPEC). It
consumes the staff, caseload and audit topics (see :mod:`steadfast_metrics.facts.mapping`)."""

from steadfast_shared.events import EventRegistry
from steadfast_shared.strategy.events import STRATEGY_TOPIC, VERSION_RECORDED, StrategyVersionData

registry = EventRegistry(source="/steadfast/metrics")

StrategyVersionRecorded = registry.register(
    VERSION_RECORDED,
    StrategyVersionData,
    topic=STRATEGY_TOPIC,
    aggregate="strategy",
    description="A version of the council's workforce strategy was stored (the whole document; the "
    "shipped default is stored as version 1 at the first change). The caseload service applies the "
    "highest version it has heard of.",
)
