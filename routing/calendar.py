"""Dutch calendar dates: "the day of receipt" is the date of ``received_at`` in Europe/Amsterdam (spec/policy.md).

A report received at 2025-12-31T23:30:00Z arrived on 1 January 2026 in the
Netherlands, and every date rule (policy, the contracts' "not after the day of
receipt") judges it so. The zone comes from the ``tzdata`` package when the
machine has no zone data of its own.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

NETHERLANDS = ZoneInfo("Europe/Amsterdam")


def day_of_receipt(received_at: datetime) -> date:
    """The Dutch calendar date of an aware moment."""
    return received_at.astimezone(NETHERLANDS).date()
