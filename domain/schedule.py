"""When the bot's scheduled work runs: the [schedule] section of the configuration."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ScheduleRules:
    """When the bot's scheduled work (reminders, digests, reports) runs."""

    # A job that fell due while the bot was down still runs after a restart within this
    # many hours; older ones are recorded as skipped, so nobody gets a stale reminder.
    grace_hours: int = 12
    # Meeting reminders, in minutes before the start (24 h and 1 h by default), earliest first.
    reminder_offsets_minutes: tuple[int, ...] = (1440, 60)
    # Local hour (the branch's time zone) of the monthly digest and the committee reports.
    digest_hour: int = 9
    # Days before a period ends with an obligation unmet that the secretary is warned.
    warn_days_before_end: int = 7
    # Consecutive months without attending after which a member is flagged to the secretary.
    absence_months: int = 2
