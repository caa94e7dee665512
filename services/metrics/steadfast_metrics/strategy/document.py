"""The workforce strategy document as the metrics service validates it: the shared document
(:mod:`steadfast_shared.strategy.document`, which the caseload service reads too) whose targets must name
KPIs of the catalogue.

It is versioned per council (:mod:`steadfast_metrics.strategy.models`) and every version is published
(:mod:`steadfast_metrics.events`); the values shipped are the Slough 2014-17 strategy's (SPEC section 3).
The KPI engine reads the settings (weights, intervals, window, the average-caseload target that sets each
worker's limit); statuses are evaluated against it at read time, so a new version changes every status
at once without replaying an event.
"""

from __future__ import annotations

from typing import Self

from pydantic import model_validator

from steadfast_shared.strategy import document as shared
from steadfast_shared.strategy.document import (
    CaseloadWeights,
    Direction,
    Milestone,
    Target,
    VisitIntervals,
)

__all__ = [
    "SLOUGH_2014_17",
    "CaseloadWeights",
    "Direction",
    "Milestone",
    "StrategyDocument",
    "Target",
    "VisitIntervals",
]


class StrategyDocument(shared.StrategyDocument):
    """What a council's workforce strategy sets (one version of it), its targets for known KPIs only."""

    @model_validator(mode="after")
    def _known_kpis(self) -> Self:
        from steadfast_metrics.kpis.catalogue import KPI_IDS

        unknown = sorted(set(self.targets) - set(KPI_IDS))
        if unknown:
            raise ValueError(f"targets for unknown KPIs: {', '.join(unknown)}")
        return self


#: The Slough children's social care workforce strategy 2014-17 (SPEC section 3), shipped as version 1.
SLOUGH_2014_17 = StrategyDocument.model_validate(shared.SHIPPED_STRATEGY.model_dump())
