"""Long texts are split so that every part stays valid HTML under Telegram's limit."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.emulator.formatting import parse_html
from ui.render import split_html


def test_short_text_is_one_part() -> None:
    assert split_html("<b>标题</b>\n正文") == ["<b>标题</b>\n正文"]


def test_a_tag_spanning_the_cut_is_closed_and_reopened() -> None:
    text = "<b>" + "\n".join(f"第{i}行" + "长" * 30 for i in range(300)) + "</b>\n结束"
    parts = split_html(text, limit=500)
    assert len(parts) > 5
    for part in parts:
        assert len(part) <= 500
        parse_html(part)  # raises on broken markup
    assert parts[0].startswith("<b>")
    assert parts[1].startswith("<b>")


def test_an_overlong_line_is_cut_outside_tags_and_entities() -> None:
    text = "&lt;" * 3000 + '<a href="https://example.org">链接</a>'
    parts = split_html(text, limit=1000)
    for part in parts:
        assert len(part) <= 1000
        parse_html(part)


words = st.sampled_from(["王芳", "&amp;", "&lt;", "学习", "A", " ", "🇨🇳"])
lines = st.lists(words, min_size=0, max_size=40).map("".join)
wrapped = st.tuples(st.sampled_from(["", "b", "i", "u", "code"]), st.lists(lines, max_size=30)).map(
    lambda t: (f"<{t[0]}>" if t[0] else "") + "\n".join(t[1]) + (f"</{t[0]}>" if t[0] else "")
)


@settings(max_examples=200, deadline=None)
@given(st.lists(wrapped, min_size=1, max_size=20).map("\n".join), st.integers(100, 600))
def test_every_part_parses_and_fits(text: str, limit: int) -> None:
    parts = split_html(text, limit=limit)
    for part in parts:
        assert len(part) <= limit
        parse_html(part)
    plain = "".join(parse_html(p)[0] for p in parts)
    assert plain.replace("\n", "") == parse_html(text)[0].replace("\n", "")
