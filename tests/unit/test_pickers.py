"""The shared picker's rules: what a typed part matches, which page is shown."""

from __future__ import annotations

from domain.pickers import FIND_MAX, find_text, matches, narrow, page_start
from domain.wizard import Refusal


def test_a_typed_part_matches_any_case_and_full_width() -> None:
    assert matches("第一支部", "一支")
    assert matches("ABC公司支部", "ａｂｃ")  # full-width letters as typed on some phones
    assert not matches("第一支部", "第二")
    assert matches("第一支部", "")


def test_typed_parts_are_tidied_cut_and_never_empty() -> None:
    assert find_text("  第一\u200b  ") == "第一"
    assert find_text("字" * 500) == "字" * FIND_MAX
    assert find_text(" \n\t ") == Refusal("picker.find_empty")


def test_pages_reach_the_last_item_and_stay_inside_the_list() -> None:
    names = [f"第{i:03d}支部" for i in range(1, 301)]
    last = narrow(names, str, 296, "")
    assert (last.offset, last.total, last.items[-1]) == (296, 300, "第300支部")
    assert page_start(10_000, 300) == 296  # past the end: the last page
    assert page_start(-5, 300) == 0
    assert page_start(3, 0) == 0
    found = narrow(names, str, 8, "第29")
    assert (found.offset, found.total, found.items) == (8, 10, ("第298支部", "第299支部"))
