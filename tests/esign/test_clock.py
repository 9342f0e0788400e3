"""esign.clock: the business date is the Istanbul calendar day of an instant."""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from esign.clock import Clock, business_date


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        (datetime(2026, 3, 10, 20, 59, 59, tzinfo=UTC), date(2026, 3, 10)),  # 23:59:59 in Istanbul
        (datetime(2026, 3, 10, 21, 0, tzinfo=UTC), date(2026, 3, 11)),  # midnight in Istanbul
        (datetime(2026, 3, 10, 23, 59, tzinfo=UTC), date(2026, 3, 11)),  # 02:59, the old bug's window
        (datetime(2026, 3, 11, 1, 30, tzinfo=timezone(timedelta(hours=3))), date(2026, 3, 11)),
    ],
)
def test_the_business_date_is_the_day_in_istanbul(moment, day):
    assert business_date(moment) == day


def test_a_naive_datetime_has_no_business_date():
    with pytest.raises(ValueError, match="naive"):
        business_date(datetime(2026, 3, 10, 22, 30))


def test_the_system_clock_gives_aware_utc_instants():
    assert Clock().now().utcoffset() == timedelta(0)
