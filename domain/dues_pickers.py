"""The /dues choosers as data: which branch (for a keeper of several), which committee, which
register or roll-up. Each pages through the whole list, and part of a name typed while it is
open narrows it (domain.pickers); the draft keeps which chooser is open, its page and the
typed part."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

from domain.pickers import FindDraft, paging
from domain.wizard import Draft, Steps

# The choosers, by step: the branch of 登记交费 (grid), 减免党费 (exempt), 批量设置标准 (bulk),
# 上缴党费 (remit) and 党费设置 (settings); the committee of 上缴情况 (board) and of 党费计算标准
# (rates); the registers and roll-ups of 党费台账 (ledger); the branch of 党费公示 (disclose).
PICKERS = ("grid", "exempt", "bulk", "remit", "settings", "board", "rates", "ledger", "disclose")


@dataclasses.dataclass(frozen=True)
class DuesFindDraft(FindDraft):
    """A /dues chooser open: which one (its step; `key` is what it carries on, such as the
    month of 登记交费 or the year of 党费台账), the page, and a typed part of a name."""

    FLOW: ClassVar[str] = "dues_find"
    VERSION: ClassVar[int] = 1


FIND_STEPS: Steps[DuesFindDraft] = {step: paging("offset", "find") for step in PICKERS}


@dataclasses.dataclass(frozen=True)
class GridFindDraft(Draft):
    """登记交费's month grid open: the branch, month and page, and a typed part of a name
    narrowing its members."""

    FLOW: ClassVar[str] = "dues_grid_find"
    VERSION: ClassVar[int] = 1

    org_id: int = 0
    month: int = 0
    page: int = 0
    find: str = ""


GRID_STEPS: Steps[GridFindDraft] = {"find": paging("page", "find")}


def picker_open(step: str, key: int, offset: int = 0, find: str = "") -> DuesFindDraft:
    """A chooser shown: typed text next narrows this list."""
    return DuesFindDraft(step=step, key=key, offset=max(0, offset), find=find)
