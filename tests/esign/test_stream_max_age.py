"""The streams drop messages past their maximum age (events carry contact data), on a real
nats-server: a new stream gets it, a stream made before it (no max age) or with another one gets it
when a service starts, and settings that would let a consumer forget an event still in the stream
are refused."""

from __future__ import annotations

import uuid

import pytest
from nats.js.api import StreamConfig
from pydantic import ValidationError

from esign.jetstream import DEFAULT_MAX_AGE_SECONDS, DUPLICATE_WINDOW_SECONDS, ensure_stream, stream_name
from esign.settings import ServiceSettings


def producer_name() -> str:
    return f"age{uuid.uuid4().hex[:10]}"


async def test_a_new_stream_has_the_max_age(nc):
    js, producer = nc.jetstream(), producer_name()
    await ensure_stream(js, producer, max_age=3 * 86400)
    config = (await js.stream_info(stream_name(producer))).config
    assert config.max_age == pytest.approx(3 * 86400)
    assert config.duplicate_window == pytest.approx(DUPLICATE_WINDOW_SECONDS)


async def test_the_default_max_age_is_set_when_none_is_given(nc):
    js, producer = nc.jetstream(), producer_name()
    await ensure_stream(js, producer)
    assert (await js.stream_info(stream_name(producer))).config.max_age == pytest.approx(DEFAULT_MAX_AGE_SECONDS)


async def test_an_existing_stream_without_a_max_age_gets_it_on_start_and_keeps_its_messages(nc):
    js, producer = nc.jetstream(), producer_name()
    # As every stream was made before max_age existed: no limit.
    await js.add_stream(
        StreamConfig(name=stream_name(producer), subjects=[f"{producer}.>"], duplicate_window=DUPLICATE_WINDOW_SECONDS)
    )
    await js.publish(f"{producer}.thing.happened", b"{}", headers={"Nats-Msg-Id": "kept"})
    assert not (await js.stream_info(stream_name(producer))).config.max_age

    await ensure_stream(js, producer, max_age=7 * 86400)
    info = await js.stream_info(stream_name(producer))
    assert info.config.max_age == pytest.approx(7 * 86400)
    assert info.state.messages == 1  # a fresh message is younger than the age: nothing dropped

    await ensure_stream(js, producer, max_age=2 * 86400)  # the setting changed: the stream follows
    assert (await js.stream_info(stream_name(producer))).config.max_age == pytest.approx(2 * 86400)


async def test_a_max_age_within_the_duplicate_window_is_refused(nc):
    with pytest.raises(ValueError, match="duplicate window"):
        await ensure_stream(nc.jetstream(), producer_name(), max_age=DUPLICATE_WINDOW_SECONDS)


def test_a_stream_kept_longer_than_the_consumers_remember_is_refused():
    with pytest.raises(ValidationError, match="stream_max_age_days"):
        ServiceSettings(stream_max_age_days=31, processed_events_keep_days=30)
    assert ServiceSettings(stream_max_age_days=30, processed_events_keep_days=30).stream_max_age_days == 30
