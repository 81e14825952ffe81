"""One registry explains every refusal: each code a service raises has words in both languages."""

from __future__ import annotations

import re
from pathlib import Path

from bot.i18n import load_catalog
from domain.orgs import Permission
from ui.errors import ERRORS, FILE_ERRORS, OVERRIDES, ROW_ERRORS, error_key

ROOT = Path(__file__).resolve().parents[2]
LITERAL = re.compile(
    r"""\b(?:ServiceError|Denied|NotFound|Refusal)\(\s*"([a-z_]+(?:\.[a-z_]+)+)\""""
)
# Codes built at run time, spelled out: (the f-string's file, every code it can make).
DYNAMIC: dict[str, set[str]] = {
    "services/authz.py": {f"auth.{p.value}" for p in Permission},
    "services/members.py": {
        f"input.{code}"
        for code in (
            "name.empty", "name.too_long", "name.too_short", "name.bad_chars", "phone.invalid",
            "reason_empty", "reason_too_long",
        )
    },
    "services/orgs.py": {"org.text.empty", "org.text.too_long"},
    "services/notices.py": {"notice.title_empty", "notice.title_too_long"},
    "services/meetings.py": {
        "meeting.closed", "meeting.cancelled",
        *(f"meeting.{f}_{w}" for f in ("place", "topic", "agenda") for w in ("empty", "long")),
    },
    # Domain checks whose Invalid code a service raises as it is (ServiceError(result.code)).
    "services/forms.py": {
        "form.title.empty", "form.title.too_long", "form.no_questions",
        "form.too_many_questions", "form.choices.too_few", "form.columns.none",
        "form.show_if.order", "form.show_if.source",
    },
    "services/members.py (registrations)": {
        "registration.already_approved", "registration.already_rejected",
        "registration.already_cancelled",
    },
}  # fmt: skip
DEFAULTS = {"auth.denied", "not_found", "stale"}


def _raised_codes() -> set[str]:
    codes = set(DEFAULTS)
    for path in (ROOT / "services").rglob("*.py"):
        codes |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    for path in (ROOT / "domain").rglob("*.py"):
        codes |= set(LITERAL.findall(path.read_text(encoding="utf-8")))
    for extra in DYNAMIC.values():
        codes |= extra
    return codes


def test_the_scan_finds_the_codes_services_raise() -> None:
    codes = _raised_codes()
    assert {"meeting.closed", "notice.recalled", "auth.manage_meetings"} <= codes
    assert len(codes) > 60


def test_every_dynamic_code_family_is_still_built_where_listed() -> None:
    for file in DYNAMIC:
        source = (ROOT / file.split()[0]).read_text(encoding="utf-8")
        assert re.search(r'(Error|Denied)\((f"|result\.code)', source), f"{file} builds no codes"


def test_every_code_raised_in_services_has_an_explanation() -> None:
    missing = sorted(code for code in _raised_codes() if code not in ERRORS)
    assert missing == []


def test_every_explanation_exists_in_both_languages() -> None:
    catalog = load_catalog("zh_CN")
    keys = set(ERRORS.values()) | set(ROW_ERRORS.values()) | set(FILE_ERRORS.values())
    for words in OVERRIDES.values():
        keys |= set(words.values())
    keys |= {error_key("no.such.code"), "import.error.generic", "import.file.corrupt"}
    for locale in ("zh_CN", "en"):
        missing = sorted(k for k in keys if k not in catalog.messages[locale])
        assert missing == [], locale


def test_a_feature_may_word_a_shared_code_its_own_way() -> None:
    assert error_key("auth.denied") == "error.auth.denied"
    assert error_key("auth.denied", "org") == "org.error.denied"
    assert error_key("meeting.closed", "org") == error_key("meeting.closed")
