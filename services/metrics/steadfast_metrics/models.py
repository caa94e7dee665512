"""Every ORM model of the service, imported so the metadata is complete (for Alembic and the app)."""

from steadfast_metrics.facts.models import *  # noqa: F403  (the projections of the three event streams)
from steadfast_metrics.history.models import KpiSnapshot
from steadfast_metrics.strategy.models import StrategyVersion

__all__ = ["KpiSnapshot", "StrategyVersion"]
