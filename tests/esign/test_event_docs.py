"""docs/events.md is the contract other teams read: every event in code must be documented."""

from pathlib import Path

import pytest

from esign.events import EVENT_SCHEMAS

DOC = (Path(__file__).parents[2] / "docs" / "events.md").read_text()


@pytest.mark.parametrize(
    "key",
    sorted(k for k in EVENT_SCHEMAS if k[0].split(".")[0] in {"applications", "tracking", "notifications"}),
    ids=lambda k: f"{k[0]} v{k[1]}",
)
def test_every_event_is_documented_with_its_fields(key):
    event_type, version = key
    assert f"`{event_type}` v{version}" in DOC
    short = event_type.split(".", 1)[1]
    section = DOC[DOC.index(f"**{short}**") :] if f"**{short}**" in DOC else DOC
    for field in EVENT_SCHEMAS[key].model_fields:
        assert f"`{field}`" in section, f"{event_type}: field {field} not documented"
