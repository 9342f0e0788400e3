"""Rules of docs/personal-data.md that hold for the platform's contracts as a whole."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from esign.events import EVENT_SCHEMAS

FORBIDDEN = ("tckn", "kimlik", "national_id", "birth")


def _field_names(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, info in model.model_fields.items():
        names.append(prefix + name)
        annotation: Any = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += _field_names(annotation, f"{prefix}{name}.")
    return names


def test_no_event_carries_a_tc_kimlik_no_or_a_birth_date():
    assert EVENT_SCHEMAS, "the event registry is empty: nothing was checked"
    offending = {
        f"{event_type} v{version}: {field}"
        for (event_type, version), schema in EVENT_SCHEMAS.items()
        for field in _field_names(schema)
        if any(word in field.lower() for word in FORBIDDEN)
    }
    assert not offending
