"""Reading the common row without the row model's validation, and only the common row.

Validating a CSV row with its pydantic row model costs about 14 microseconds, most of it in the
per-field check every :class:`~steadfast_shared.schemas.Input` makes in Python (no control character,
no date outside the calendar): a third of the time of a 100,000-row import. :class:`FastRows` reads a
row of the kinds of cells that make up nearly every extract -- plain text within its length limits, an
ISO date inside the calendar, a code exactly as the code list spells it, ``true``/``false``, an empty
cell for a nullable column -- straight into the model's values, and builds the model instance from them
as ``model_validate`` would have (the same values, the same ``model_fields_set``).

Every cell it is not sure of (anything else: a label to normalise, a UK date, a control character, a
character that is not printable, a value out of range, a cell of a type it does not know) makes it
answer None, and the engine normalises the row and validates it with the row model as before, so every
error keeps its row, column, reason and message, and every value the model accepts in another spelling
is still accepted. A row model with validators of its own, aliases, private attributes or extra
columns kept, or a field of a type not listed here, is always validated by pydantic.
"""

from __future__ import annotations

import inspect
import re
import types
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Annotated, Any, Union, cast, get_args, get_origin

from pydantic import AfterValidator, BaseModel, StringConstraints
from pydantic.fields import FieldInfo

from steadfast_shared.dates import FIRST_DAY, LAST_DAY

#: The validators a row model may have and still be read here: the ones every ``Input`` has, whose
#: rules the converters below apply themselves.
_KNOWN_VALIDATORS = frozenset({"_every_input"})

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
#: The spellings pydantic reads as booleans, in lower case (it also takes other cases: those go to it).
_BOOLEANS = {
    "true": True,
    "t": True,
    "yes": True,
    "y": True,
    "on": True,
    "1": True,
    "false": False,
    "f": False,
    "no": False,
    "n": False,
    "off": False,
    "0": False,
}

_object_setattr = object.__setattr__


class _NotSure(Exception):
    """A cell the converter leaves to the row model."""


Converter = Callable[[str], Any]


def _text(min_length: int, max_length: int | None, after: list[Callable[[Any], Any]]) -> Converter:
    def convert(value: str) -> Any:
        # Printable text holds no control character (nor a line break, a tab or any Unicode space but
        # " "), so the row model's check passes and its whitespace stripping changes nothing.
        if not value.isprintable() or value[0] == " " or value[-1] == " ":
            raise _NotSure
        if len(value) < min_length or (max_length is not None and len(value) > max_length):
            raise _NotSure
        result: Any = value
        for validator in after:
            try:
                result = validator(result)
            except Exception:
                raise _NotSure from None
        if after and not (isinstance(result, str) and result.isprintable()):
            raise _NotSure
        return result

    return convert


def _date(value: str) -> date:
    if _ISO_DATE.fullmatch(value) is None:
        raise _NotSure
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise _NotSure from None
    if not FIRST_DAY.year <= day.year <= LAST_DAY.year:  # the calendar's rule (dates.in_calendar)
        raise _NotSure
    return day


def _code(codes: type[Enum]) -> Converter:
    members = {str(member.value): member for member in codes}

    def convert(value: str) -> Any:
        member = members.get(value)
        if member is None:
            raise _NotSure
        return member

    return convert


def _boolean(value: str) -> bool:
    found = _BOOLEANS.get(value)
    if found is None:
        raise _NotSure
    return found


def _single_argument(function: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) == 1 and all(
        p.default is not p.empty for p in parameters if p.kind is p.KEYWORD_ONLY
    )


def _converter(annotation: Any, metadata: list[Any]) -> tuple[Converter, bool] | None:
    """The converter of a field's cells and whether an empty cell is a null, or None if not known."""
    nullable = False
    origin = get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(args) != 1 or type(None) not in get_args(annotation):
            return None
        nullable = True
        annotation = args[0]
    if get_origin(annotation) is Annotated:
        annotation, *more = get_args(annotation)
        metadata = [*metadata, *more]
    if annotation is str:
        min_length, max_length = 0, None
        after: list[Callable[[Any], Any]] = []
        for item in metadata:
            if isinstance(item, StringConstraints):
                if any(
                    getattr(item, name, None)
                    for name in ("to_upper", "to_lower", "strict", "pattern", "ascii_only")
                ):
                    return None
                min_length = max(min_length, item.min_length or 0)
                if item.max_length is not None:
                    max_length = item.max_length if max_length is None else min(max_length, item.max_length)
            elif isinstance(item, AfterValidator) and _single_argument(item.func):
                after.append(cast(Callable[[Any], Any], item.func))
            else:
                return None  # Text's marker, a pattern, another constraint: the model decides
        return _text(max(min_length, 1), max_length, after), nullable
    if metadata:
        return None
    if isinstance(annotation, type):
        if annotation is date:
            return _date, nullable
        if annotation is bool:
            return _boolean, nullable
        if issubclass(annotation, Enum) and issubclass(annotation, str):
            return _code(annotation), nullable
    return None


class FastRows:
    """Builds a row model's instance from a row's cells when every cell is one it is sure of."""

    def __init__(self, model: type[BaseModel], fields: list[tuple[str, Converter, bool, FieldInfo]]) -> None:
        self.model = model
        self._fields = fields
        self._names = frozenset(name for name, *_ in fields)

    @classmethod
    def for_model(cls, model: type[BaseModel]) -> FastRows | None:
        """The fast reader of ``model``'s rows, or None when every row must go to the model."""
        decorators = model.__pydantic_decorators__
        if (
            set(decorators.field_validators) - _KNOWN_VALIDATORS
            or decorators.model_validators
            or decorators.root_validators
            or decorators.validators
            or model.__private_attributes__
            or model.model_config.get("extra") == "allow"
            or model.__pydantic_post_init__ is not None
        ):
            return None
        fields = []
        for name, info in model.model_fields.items():
            if info.alias or info.validation_alias or info.validate_default:
                return None
            found = _converter(info.annotation, list(info.metadata))
            if found is None:
                return None
            fields.append((name, found[0], found[1], info))
        return cls(model, fields)

    def __call__(self, raw: dict[str, str | None]) -> BaseModel | None:
        """The row as the model would validate it, or None to let the model validate it."""
        values: dict[str, Any] = {}
        try:
            for name, convert, nullable, info in self._fields:
                if name not in raw:
                    if info.is_required():
                        return None
                    values[name] = info.get_default(call_default_factory=True)
                    continue
                value = raw[name]
                if value is None:
                    if not nullable:
                        return None
                    values[name] = None
                else:
                    values[name] = convert(value)
        except _NotSure:
            return None
        # What model_validate leaves on a valid instance: its values, which fields were given, no extra.
        instance = self.model.__new__(self.model)
        _object_setattr(instance, "__dict__", values)
        _object_setattr(instance, "__pydantic_fields_set__", raw.keys() & self._names)
        _object_setattr(instance, "__pydantic_extra__", None)
        _object_setattr(instance, "__pydantic_private__", None)
        return instance
