import os

from pydantic import Field, model_validator

from steadfast_shared.settings import ServiceSettings, service_config

#: Settings the caseload service no longer has: the strategy (the metrics service's ``PUT /v1/strategy``,
#: published as events) is the one place the caseload weights, limits and visit intervals are set.
RETIRED_SETTINGS = {
    "CASELOAD_CASELOAD_LIMIT": "caseload_limit",
    "CASELOAD_NQSW_LIMIT_FACTOR": "caseload_weights.nqsw_factor",
    "CASELOAD_CONSULTANT_PRACTITIONER_WEIGHT": "caseload_weights.consultant_practitioner",
    "CASELOAD_CP_VISIT_INTERVAL_WORKING_DAYS": "visit_intervals.cp_working_days",
    "CASELOAD_CLA_VISIT_INTERVAL_DAYS": "visit_intervals.cla_days",
}


class CaseloadSettings(ServiceSettings):
    """The caseload service's settings: every field is ``CASELOAD_<FIELD>`` in the environment."""

    model_config = service_config("CASELOAD_")

    database_url: str = "sqlite+aiosqlite:///var/data/caseload.db"
    #: The staff topic the worker directory is built from.
    staff_topic: str = "steadfast.staff"
    #: The topic the metrics service publishes the strategy's versions on.
    strategy_topic: str = "steadfast.strategy"
    #: The council whose strategy applies (the metrics service's ``METRICS_COUNCIL``).
    council: str = Field(default="slough", min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")

    @model_validator(mode="after")
    def _no_retired_settings(self) -> "CaseloadSettings":
        retired = sorted(name for name in RETIRED_SETTINGS if name in os.environ)
        if retired:
            where = ", ".join(f"{name} (now the strategy's {RETIRED_SETTINGS[name]})" for name in retired)
            raise ValueError(
                f"{where}: the caseload service applies the council's strategy; set it with "
                "PUT /v1/strategy on the metrics service and unset these variables"
            )
        return self
