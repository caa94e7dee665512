from pydantic import Field, field_validator

from steadfast_shared.settings import ServiceSettings, service_config

#: The elements of casework every audit may grade (SPEC: contact is whether the child was seen, how often).
DEFAULT_ELEMENTS = ("contact", "planning", "voice_of_the_child", "management_oversight", "assessment")


class AuditSettings(ServiceSettings):
    """The audit service's settings: every field is ``AUDIT_<FIELD>`` in the environment."""

    model_config = service_config("AUDIT_")

    database_url: str = "sqlite+aiosqlite:///var/data/audit.db"
    #: The staff topic the worker directory is built from.
    staff_topic: str = "steadfast.staff"
    #: The elements an audit may grade (a JSON list in the environment); ``contact`` is always one of them.
    audit_elements: list[str] = Field(default_factory=lambda: list(DEFAULT_ELEMENTS), min_length=1)

    @field_validator("audit_elements")
    @classmethod
    def _elements_are_codes(cls, elements: list[str]) -> list[str]:
        for element in elements:
            if not element.isidentifier() or element != element.lower():
                raise ValueError(f"an element is a lower-case code (letters, digits, _): {element!r}")
        if "contact" not in elements:
            raise ValueError("the contact element is required: the contact KPI reads it")
        if len(set(elements)) != len(elements):
            raise ValueError("each element is listed once")
        return elements
