from __future__ import annotations

from pydantic import BaseModel, Field

from steadfast_metrics.strategy.document import SLOUGH_2014_17, StrategyDocument
from steadfast_shared.schemas import Input, Text, Timestamp, with_examples

#: The programme board's change of the README's tour: a wider near band than the shipped 5 %.
WIDER_NEAR_BAND = {
    "document": {**SLOUGH_2014_17.model_dump(mode="json"), "tolerance_pct": 30.0},
    "note": "board, March 2015: a wider near band",
}


class StrategyChange(Input):
    """A new version of the strategy: the whole document, and why it changed."""

    model_config = with_examples(WIDER_NEAR_BAND)

    document: StrategyDocument
    note: Text | None = Field(default=None, max_length=2000, description="why it changed (board minute, say)")


class StrategyRead(BaseModel):
    model_config = with_examples(
        {
            "council": "slough",
            "version": 2,
            **WIDER_NEAR_BAND,
            "changed_by": "programme-board",
            "created_at": "2015-03-10T09:30:00+00:00",
        }
    )

    council: str
    version: int
    document: StrategyDocument
    changed_by: str
    note: str | None
    created_at: Timestamp | None = Field(description="null for the shipped default, never stored yet")
