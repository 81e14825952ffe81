"""Party dues, the monthly cycle: when the payment day falls, and how arrears escalate.

Arrears escalate on consecutive unpaid months ending this month: at 3 the branch secretary is
told, at 5 asked to hold a 谈心谈话, at 6 the branch committee gets a formal flag. Each level
is raised once per member and run of unpaid months: a member who pays and falls behind again
starts a new run (a new first unpaid month), so is flagged again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import IntEnum
from zoneinfo import ZoneInfo

from domain.dues import Month, add_months, is_month, month_of


class Level(IntEnum):
    """How far behind a member is, as it is escalated."""

    SECRETARY = 3  # the branch secretary is told
    TALK = 5  # the secretary is asked to record a talk
    COMMITTEE = 6  # the branch committee gets a formal flag


def levels_reached(months_behind: int) -> tuple[Level, ...]:
    """The escalation levels a member this many months behind has reached (lowest first)."""
    return tuple(level for level in Level if months_behind >= level)


def first_unpaid(as_of: Month, months_behind: int) -> Month:
    """The first month of the run of unpaid months that ends at as_of."""
    return add_months(as_of, -(months_behind - 1))


def arrears_key(member_id: int, level: Level, first: Month) -> str:
    """The once-only key of one escalation: member, level and the run it belongs to."""
    return f"dues-arrears:{member_id}:{int(level)}:{first}"


def payment_moment(month: Month, day: int, hour: int, zone: str) -> datetime:
    """The payment day of a month at the digest hour, local to the branch, in UTC."""
    local = datetime(month // 100, month % 100, max(1, min(day, 28)), hour, tzinfo=ZoneInfo(zone))
    return local.astimezone(UTC)


def payment_key(month: Month, day: int, zone: str) -> str:
    """The occurrence key of one payment day: all branches of that day and zone together."""
    return f"{month}@{day}@{zone}"


@dataclass(frozen=True)
class PaymentDay:
    """A parsed payment-day occurrence key."""

    month: Month
    day: int
    zone: str

    @property
    def local_date(self) -> date:
        """The branch-local date of the payment day."""
        return date(self.month // 100, self.month % 100, max(1, min(self.day, 28)))


def parse_payment_key(key: str) -> PaymentDay | None:
    """The month, day and zone of a payment-day key (None: not one)."""
    parts = key.split("@")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    month, day = int(parts[0]), int(parts[1])
    if not 1 <= month % 100 <= 12 or not 1 <= day <= 28:
        return None
    return PaymentDay(month, day, parts[2])


def months_text_range(first: Month, last: Month) -> tuple[int, int, int, int]:
    """(first year, first month, last year, last month) for showing a run of months."""
    return first // 100, first % 100, last // 100, last % 100


# ---- 上缴: remittances to the committee ----

REMIT_CONFIRM_PREFIX = "dcc"  # the committee keeper's 确认收到 (ui.dues_cycle.RemitConfirm)


def remit_confirm_data(remittance_id: int) -> str:
    """The callback data of 确认收到 on a remittance notification (queued by the service)."""
    return f"{REMIT_CONFIRM_PREFIX}:{remittance_id}"


def check_remittance(
    from_month: Month, until_month: Month, amount_fen: int, paid_on: date, today: date
) -> str | None:
    """Why a remittance cannot be recorded (a code), or None."""
    if not (is_month(from_month) and is_month(until_month)) or from_month > until_month:
        return "dues.remit.period"
    if until_month > month_of(today):
        return "dues.remit.period_future"
    if amount_fen <= 0:
        return "dues.remit.amount"
    if paid_on > today:
        return "dues.remit.date_future"
    return None
