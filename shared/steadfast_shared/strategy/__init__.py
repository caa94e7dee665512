"""The workforce strategy shared by the services: the document, its event, and the rules applied to it."""

from steadfast_shared.strategy.document import (
    SHIPPED_STRATEGY,
    SHIPPED_VERSION,
    CaseloadWeights,
    Direction,
    Milestone,
    StrategyDocument,
    Target,
    VisitIntervals,
)
from steadfast_shared.strategy.events import STRATEGY_TOPIC, VERSION_RECORDED, StrategyVersionData

__all__ = [
    "SHIPPED_STRATEGY",
    "SHIPPED_VERSION",
    "STRATEGY_TOPIC",
    "VERSION_RECORDED",
    "CaseloadWeights",
    "Direction",
    "Milestone",
    "StrategyDocument",
    "StrategyVersionData",
    "Target",
    "VisitIntervals",
]
