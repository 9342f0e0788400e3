from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.requests import Request

from esign.masking import mask_mobile
from esign.rate_limit import client_address, window_start


@pytest.mark.parametrize("raw,masked", [("+905321234567", "+90 5** *** ** 67"), ("+4915112345678", "************78")])
def test_mobiles_are_masked(raw, masked):
    assert mask_mobile(raw) == masked


def test_windows_are_aligned_to_their_length():
    assert window_start(datetime(2026, 3, 2, 10, 7, 31, tzinfo=UTC), 600) == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert window_start(datetime(2026, 3, 2, 10, 10, tzinfo=UTC), 600) == datetime(2026, 3, 2, 10, 10, tzinfo=UTC)


def request_from(peer: str, forwarded: str | None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded else []
    return Request({"type": "http", "method": "POST", "path": "/", "headers": headers, "client": (peer, 5000)})


@pytest.mark.parametrize(
    "peer,forwarded,trusted,expected",
    [
        ("203.0.113.7", "198.51.100.1", [], "203.0.113.7"),  # no proxies configured: the header is ignored
        ("203.0.113.7", "198.51.100.1", ["10.0.0.0/8"], "203.0.113.7"),  # the peer is not our proxy: ignored
        ("10.0.0.5", "198.51.100.1", ["10.0.0.0/8"], "198.51.100.1"),
        ("10.0.0.5", "6.6.6.6, 198.51.100.1, 10.0.0.9", ["10.0.0.0/8"], "198.51.100.1"),  # a spoofed left-most hop
        ("10.0.0.5", None, ["10.0.0.0/8"], "10.0.0.5"),
    ],
)
def test_the_client_address_believes_only_trusted_proxies(peer, forwarded, trusted, expected):
    assert client_address(request_from(peer, forwarded), trusted) == expected
