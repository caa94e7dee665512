from steadfast_shared.settings import ServiceSettings, service_config


class StaffSettings(ServiceSettings):
    """The staff service's settings: every field is ``STAFF_<FIELD>`` in the environment."""

    model_config = service_config("STAFF_")

    database_url: str = "sqlite+aiosqlite:///var/data/staff.db"
