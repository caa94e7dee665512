from pydantic import Field

from steadfast_shared.settings import ServiceSettings, service_config


class StaffSettings(ServiceSettings):
    """The staff service's settings: every field is ``STAFF_<FIELD>`` in the environment."""

    model_config = service_config("STAFF_")

    database_url: str = "sqlite+aiosqlite:///var/data/staff.db"
    #: The council's three-digit DfE local authority number, written in the census export's header.
    census_la_code: str | None = Field(default=None, pattern=r"^\d{3}$")
    #: Workers the census export reads per query (memory stays flat however many there are).
    census_export_page_size: int = Field(default=500, ge=1, le=10_000)
