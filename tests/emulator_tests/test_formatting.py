"""The HTML entity parser and text measurement, without a server."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from tests.emulator.formatting import (
    EntityParseError,
    leading_command,
    parse_html,
    user_entities,
    utf16_len,
)
from tests.emulator.make_spec import reduce
from tests.emulator.spec import SPEC_PATH, Spec, SpecError, Upload

SHARED_API = Path("/work/shared/telegram-bot-api/api.json")


def test_utf16_length_counts_surrogate_pairs() -> None:
    assert utf16_len("王芳") == 2
    assert utf16_len("🇨🇳") == 4
    assert utf16_len("a😀b") == 4


def test_escaped_user_text_parses_to_the_original() -> None:
    name = "<b>王&芳</b> 🇨🇳 \"q\" 'x'"
    plain, entities = parse_html(f"<b>{html.escape(name)}</b> joined")
    assert plain == f"{name} joined"
    assert entities == [{"type": "bold", "offset": 0, "length": utf16_len(name)}]


def test_entities_use_utf16_offsets_and_all_supported_tags() -> None:
    text = (
        '🇨🇳<i>x</i><u>u</u><s>s</s><span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler>'
        '<a href="https://e.x/?a=1&amp;b=2">l</a><code>c</code>'
        '<pre><code class="language-python">p</code></pre><blockquote expandable>b</blockquote>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>&#20013;&#x6587;'
    )
    plain, entities = parse_html(text)
    assert plain == "🇨🇳xuspqlcpb👍中文"
    kinds = [(e["type"], e["offset"]) for e in entities]
    assert kinds == [
        ("italic", 4),
        ("underline", 5),
        ("strikethrough", 6),
        ("spoiler", 7),
        ("spoiler", 8),
        ("text_link", 9),
        ("code", 10),
        ("pre", 11),
        ("expandable_blockquote", 12),
        ("custom_emoji", 13),
    ]
    assert entities[5]["url"] == "https://e.x/?a=1&b=2"
    assert entities[7]["language"] == "python"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("王&芳", "Unsupported HTML entity or unescaped '&' at byte offset 3"),
        ("&nbsp;", "Unsupported HTML entity"),
        ("<div>x</div>", 'Unsupported start tag "div" at byte offset 0'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", 'expected "</i>", found "</b>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ('<span class="red">x</span>', 'Tag "span" must have class "tg-spoiler"'),
        ("<b", "Unclosed start tag"),
        ("<code><b>x</b></code>", 'Tag "b" can\'t be nested in "code"'),
    ],
)
def test_bad_html_is_rejected_with_telegram_like_errors(text: str, error: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html(text)
    assert error in str(info.value)


def test_user_entities_mark_commands_and_mentions() -> None:
    text = "🇨🇳 /start@zhibu_test_bot hi @alice_w /help"
    ents = user_entities(text)
    assert [(e["type"], e["offset"], e["length"]) for e in ents] == [
        ("bot_command", 5, 21),
        ("mention", 30, 8),
        ("bot_command", 39, 5),
    ]
    assert leading_command("/vote@other_bot 1") == ("vote", "other_bot")
    assert leading_command("/vote 1") == ("vote", None)
    assert leading_command("vote") is None


def test_committed_spec_is_compact_and_has_what_validation_needs() -> None:
    raw = SPEC_PATH.read_text(encoding="utf-8")
    assert "\n" not in raw.strip()  # compact JSON
    spec = Spec.load()
    assert spec.methods["sendMessage"]["chat_id"].required
    assert spec.methods["sendMessage"]["chat_id"].types == ("Integer", "String")
    assert "BotCommandScopeChat" in spec.subtypes["BotCommandScope"]
    assert spec.types["BotCommandScopeChat"]["type"].const == "chat"


@pytest.mark.skipif(not SHARED_API.exists(), reason="the full Bot API spec is not on this machine")
def test_committed_spec_is_up_to_date_with_the_shared_source() -> None:
    api = json.loads(SHARED_API.read_text(encoding="utf-8"))
    assert reduce(api) == json.loads(SPEC_PATH.read_text(encoding="utf-8"))


def test_spec_decodes_form_values_and_rejects_mismatches() -> None:
    spec = Spec.load()
    decoded = spec.validate_call(
        "sendMessage",
        {
            "chat_id": "-1001234567890",
            "text": "123",
            "disable_notification": "true",
            "reply_markup": json.dumps(
                {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
            ),
        },
    )
    assert decoded["chat_id"] == -1001234567890
    assert decoded["text"] == "123"
    assert decoded["disable_notification"] is True
    with pytest.raises(SpecError, match='unknown field "colour"'):
        spec.validate_call(
            "sendMessage",
            {
                "chat_id": "1",
                "text": "x",
                "reply_markup": json.dumps({"inline_keyboard": [[{"text": "a", "colour": "b"}]]}),
            },
        )
    with pytest.raises(SpecError, match="must be an Array"):
        spec.validate_call(
            "sendMessage",
            {"chat_id": "1", "text": "x", "reply_markup": json.dumps({"inline_keyboard": {}})},
        )
    with pytest.raises(SpecError, match=r'field "chat_id" of BotCommandScopeChat is required'):
        spec.validate_call(
            "setMyCommands",
            {"commands": "[]", "scope": json.dumps({"type": "chat"})},
        )
    upload = Upload("a.txt", b"x")
    assert (
        spec.validate_call("sendDocument", {"chat_id": "1", "document": upload})["document"]
        is upload
    )
    with pytest.raises(SpecError, match="must not be a file upload"):
        spec.validate_call("sendMessage", {"chat_id": "1", "text": upload})
