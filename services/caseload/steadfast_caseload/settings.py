from pydantic import Field

from steadfast_shared.settings import ServiceSettings, service_config


class CaseloadSettings(ServiceSettings):
    """The caseload service's settings: every field is ``CASELOAD_<FIELD>`` in the environment."""

    model_config = service_config("CASELOAD_")

    database_url: str = "sqlite+aiosqlite:///var/data/caseload.db"
    #: The staff topic the worker directory is built from.
    staff_topic: str = "steadfast.staff"
    #: Children per full-time case-holding worker before a worker counts as over their limit.
    caseload_limit: float = Field(default=16, gt=0)
    #: Multiplier of a newly qualified worker's limit (the protected caseload of the ASYE year).
    nqsw_limit_factor: float = Field(default=0.9, gt=0, le=1)
    #: A consultant practitioner's share of a full caseload.
    consultant_practitioner_weight: float = Field(default=0.5, gt=0, le=1)
    #: Statutory visit intervals: cp in working days, cla in calendar days (SPEC section 3).
    cp_visit_interval_working_days: int = Field(default=10, ge=1)
    cla_visit_interval_days: int = Field(default=42, ge=1)
