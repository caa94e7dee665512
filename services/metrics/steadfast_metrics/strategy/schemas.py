from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from steadfast_metrics.strategy.document import StrategyDocument


class StrategyChange(BaseModel):
    """A new version of the strategy: the whole document, and why it changed."""

    document: StrategyDocument
    note: str | None = Field(default=None, max_length=2000, description="why it changed (board minute, say)")


class StrategyRead(BaseModel):
    council: str
    version: int
    document: StrategyDocument
    changed_by: str
    note: str | None
    created_at: datetime | None = Field(description="null for the shipped default, never stored yet")
