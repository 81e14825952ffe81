"""Text measurement and Telegram's HTML entity parser, as strict as the real server (or stricter).

Telegram counts message length in UTF-16 code units after entity parsing, reports HTML errors
with UTF-8 byte offsets and only knows a handful of tags. This module reproduces that so the
emulator rejects exactly the texts that would fail in production ("can't parse entities").
"""

from __future__ import annotations

import re
from typing import Any

JSONDict = dict[str, Any]

# Tag name -> entity type. tdlib accepts these (case-insensitively) and nothing else.
_TAG_ENTITY: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}

# Only these named entities exist in Telegram HTML; numeric ones are always fine.
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8}));")
_ATTR_NAME_RE = re.compile(r"[A-Za-z0-9_-]+")
_BOT_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@])")
_MENTION_RE = re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?![\w@])")


class EntityParseError(ValueError):
    """Raised with tdlib-like wording when a text can't be parsed as Telegram HTML."""


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of every Telegram offset and limit."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _decode_entities(text: str, start: int, end: int, *, strict: bool) -> str:
    """Decode HTML entities in ``text[start:end]`` (used for attribute values)."""
    out: list[str] = []
    i = start
    while i < end:
        ch = text[i]
        if ch == "&":
            decoded, i = _decode_entity_at(text, i, strict=strict)
            out.append(decoded)
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _decode_entity_at(text: str, i: int, *, strict: bool) -> tuple[str, int]:
    m = _ENTITY_RE.match(text, i)
    if m is None:
        if not strict:
            return "&", i + 1
        # Telegram itself passes an unknown '&...' through unchanged; the emulator is stricter on
        # purpose: an unescaped '&' almost always means user text was not escaped, and the same
        # text with a '<' in it would fail in production.
        raise EntityParseError(
            f"Unsupported HTML entity or unescaped '&' at byte offset {_byte_offset(text, i)}"
        )
    named, dec, hexa = m.groups()
    if named:
        return _NAMED_ENTITIES[named], m.end()
    code = int(dec) if dec else int(hexa, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise EntityParseError(
            f"Invalid numeric HTML entity at byte offset {_byte_offset(text, i)}"
        )
    return chr(code), m.end()


class _OpenTag:
    __slots__ = ("attrs", "byte_offset", "name", "offset")

    def __init__(self, name: str, offset: int, attrs: dict[str, str], byte_offset: int) -> None:
        self.name = name
        self.offset = offset  # UTF-16 offset in the output text
        self.attrs = attrs
        self.byte_offset = byte_offset


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram HTML into (plain text, MessageEntity dicts) or raise EntityParseError."""
    out: list[str] = []
    out_len = 0  # UTF-16 length of the output so far
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []
    n = len(text)
    i = 0
    while i < n:
        ch = text[i]
        if ch == "&":
            decoded, i = _decode_entity_at(text, i, strict=True)
            out.append(decoded)
            out_len += utf16_len(decoded)
            continue
        if ch != "<":
            out.append(ch)
            out_len += 2 if ord(ch) > 0xFFFF else 1
            i += 1
            continue
        begin = i
        if i + 1 < n and text[i + 1] == "/":
            close = text.find(">", i)
            if close == -1:
                raise EntityParseError(
                    f"Unclosed end tag at byte offset {_byte_offset(text, begin)}"
                )
            name = text[i + 2 : close].strip().lower()
            if not stack:
                raise EntityParseError(
                    f"Unexpected end tag at byte offset {_byte_offset(text, begin)}"
                )
            top = stack[-1]
            if name != top.name:
                raise EntityParseError(
                    f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                    f'expected "</{top.name}>", found "</{name}>"'
                )
            stack.pop()
            entity = _make_entity(top, out_len - top.offset, stack)
            if entity is not None:
                entities.append(entity)
            i = close + 1
            continue
        # Start tag: the name runs to whitespace, '>' or '/'.
        j = i + 1
        while j < n and not text[j].isspace() and text[j] not in ">/":
            j += 1
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        name = text[i + 1 : j].lower()
        if name not in _TAG_ENTITY:
            raise EntityParseError(
                f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, begin)}'
            )
        attrs, j = _parse_attributes(text, j, name, begin)
        _check_tag(name, attrs, text, begin, stack)
        stack.append(_OpenTag(name, out_len, attrs, _byte_offset(text, begin)))
        i = j
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _parse_attributes(text: str, j: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    n = len(text)
    attrs: dict[str, str] = {}
    while True:
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[j] == ">":
            return attrs, j + 1
        m = _ATTR_NAME_RE.match(text, j)
        if m is None:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {_byte_offset(text, j)}'
            )
        attr = m.group(0).lower()
        j = m.end()
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        if text[j] != "=":
            # Valueless attribute, e.g. <blockquote expandable>.
            attrs[attr] = ""
            continue
        j += 1
        while j < n and text[j].isspace():
            j += 1
        if j >= n:
            raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
        quote = text[j]
        if quote in "\"'":
            end = text.find(quote, j + 1)
            if end == -1:
                raise EntityParseError(
                    f"Unclosed end of the attribute value at byte offset {_byte_offset(text, j)}"
                )
            attrs[attr] = _decode_entities(text, j + 1, end, strict=True)
            j = end + 1
        else:
            start = j
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            attrs[attr] = _decode_entities(text, start, j, strict=True)


def _check_tag(
    name: str, attrs: dict[str, str], text: str, begin: int, stack: list[_OpenTag]
) -> None:
    where = f"at byte offset {_byte_offset(text, begin)}"
    if name == "span" and attrs.get("class") != "tg-spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" {where}')
    if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
        raise EntityParseError(f'Tag "tg-emoji" must have a numeric "emoji-id" attribute {where}')
    if (
        stack
        and stack[-1].name in ("code", "pre")
        and not (name == "code" and stack[-1].name == "pre")
    ):
        # Telegram can't nest formatting inside code/pre; only <pre><code class=...> is allowed.
        raise EntityParseError(f'Tag "{name}" can\'t be nested in "{stack[-1].name}" {where}')


def _make_entity(tag: _OpenTag, length: int, stack: list[_OpenTag]) -> JSONDict | None:
    if length <= 0:
        return None  # Telegram silently drops empty entities.
    kind = _TAG_ENTITY[tag.name]
    entity: JSONDict = {"type": kind, "offset": tag.offset, "length": length}
    if kind == "text_link":
        href = tag.attrs.get("href", "")
        if not href:
            return None
        entity["url"] = href
    elif kind == "code" and stack and stack[-1].name == "pre":
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            # <pre><code class="language-x"> becomes one pre entity carrying the language.
            stack[-1].attrs["language"] = language[len("language-") :]
        return None
    elif kind == "pre":
        if "language" in tag.attrs:
            entity["language"] = tag.attrs["language"]
    elif kind == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.attrs["emoji-id"]
    return entity


def strip_html(text: str) -> str:
    """Plain text of a Telegram-HTML string (raises EntityParseError when it is invalid)."""
    return parse_html(text)[0]


def _utf16_offset(text: str, index: int) -> int:
    return utf16_len(text[:index])


def user_entities(text: str) -> list[JSONDict]:
    """Entities a Telegram client attaches to a user's plain text: bot commands and mentions."""
    entities: list[JSONDict] = []
    for m in _BOT_COMMAND_RE.finditer(text):
        entities.append(
            {
                "type": "bot_command",
                "offset": _utf16_offset(text, m.start()),
                "length": utf16_len(m.group(0)),
            }
        )
    for m in _MENTION_RE.finditer(text):
        if any(
            e["offset"] <= _utf16_offset(text, m.start()) < e["offset"] + e["length"]
            for e in entities
        ):
            continue
        entities.append(
            {
                "type": "mention",
                "offset": _utf16_offset(text, m.start()),
                "length": utf16_len(m.group(0)),
            }
        )
    entities.sort(key=lambda e: e["offset"])
    return entities


def leading_command(text: str | None) -> tuple[str, str | None] | None:
    """(command, @target or None) when ``text`` starts with a bot command, else None."""
    if not text:
        return None
    m = _BOT_COMMAND_RE.match(text)
    if m is None:
        return None
    token = m.group(0)[1:]
    if "@" in token:
        cmd, target = token.split("@", 1)
        return cmd, target
    return token, None
