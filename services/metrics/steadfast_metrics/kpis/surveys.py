"""The survey KPIs (SPEC section 3): recruit reasons, leaver reasons, the staff health check and the
child and family experience.

For one kind of survey, the returns of that kind returned in the window (of the team: the return's own
team; a return with no team counts only for the whole council). Each factor's mean is the mean score of
the returns that answered it; the KPI's value is the mean of the factor means, over the factors anyone
answered (None when nobody answered any), and its denominator the number of returns. The breakdown
gives each factor's mean and number of answers, the same for the previous window of the same length
(``[as_of - 2 x window_days + 1, as_of - window_days]``) and the change between the two; and, for the
whole survey, ``previous_value`` and ``change`` on the same terms. Whether a rise is good is the
catalogue's ``high_is_good``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from statistics import fmean
from typing import Any

from steadfast_metrics.facts.records import SURVEY_FACTORS, SurveyReturn
from steadfast_metrics.kpis.catalogue import KpiValue
from steadfast_metrics.kpis.measures import Window


def _returns(
    surveys: Iterable[SurveyReturn], kind: str, window: Window, team: str | None
) -> list[SurveyReturn]:
    return [
        s
        for s in surveys
        if s.kind == kind and s.returned_date in window and (team is None or s.team == team)
    ]


def _factor_means(kind: str, returns: Sequence[SurveyReturn]) -> dict[str, tuple[float | None, int]]:
    means: dict[str, tuple[float | None, int]] = {}
    for factor in SURVEY_FACTORS[kind]:
        scores = [s.scores[factor] for s in returns if factor in s.scores]
        means[factor] = (fmean(scores) if scores else None, len(scores))
    return means


def _overall(means: dict[str, tuple[float | None, int]]) -> float | None:
    answered = [mean for mean, _ in means.values() if mean is not None]
    return fmean(answered) if answered else None


def _change(now: float | None, before: float | None) -> float | None:
    return now - before if now is not None and before is not None else None


def survey_kpi(kind: str, surveys: Sequence[SurveyReturn], window: Window, team: str | None) -> KpiValue:
    current = _returns(surveys, kind, window, team)
    previous = _returns(surveys, kind, window.previous(), team)
    now, before = _factor_means(kind, current), _factor_means(kind, previous)
    factors: dict[str, Any] = {
        factor: {
            "mean": mean,
            "responses": responses,
            "previous_mean": before[factor][0],
            "change": _change(mean, before[factor][0]),
        }
        for factor, (mean, responses) in now.items()
    }
    value, previous_value = _overall(now), _overall(before)
    return KpiValue(
        kind,
        value,
        numerator=None,
        denominator=len(current),
        breakdown={
            "factors": factors,
            "responses": len(current),
            "previous_responses": len(previous),
            "previous_value": previous_value,
            "change": _change(value, previous_value),
        },
    )
