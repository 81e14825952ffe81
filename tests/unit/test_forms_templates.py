"""The form templates: complete in both languages, and valid forms as they stand."""

from __future__ import annotations

from datetime import date

import pytest

from bot.i18n import load_catalog
from domain.forms import FormKind, QType, Repeat, check_form, cycle_for, parse_typed
from ui.forms import TEMPLATES, Template, template, template_form

CATALOG = load_catalog("zh_CN")


def test_the_five_templates_the_branches_asked_for_are_there() -> None:
    assert [t.code for t in TEMPLATES] == [
        "member_update", "monthly_report", "theme_day", "volunteer", "yearly_stats"
    ]  # fmt: skip
    assert template("monthly_report") is TEMPLATES[1]
    assert template("nope") is None


@pytest.mark.parametrize("chosen", TEMPLATES, ids=lambda t: t.code)
def test_each_template_is_a_valid_form_in_both_languages(chosen: Template) -> None:
    forms = {locale: template_form(CATALOG, locale, chosen) for locale in ("zh_CN", "en")}
    for title, intro, questions in forms.values():
        assert title
        assert intro
        assert check_form(questions) is None
    zh, en = forms["zh_CN"][2], forms["en"][2]
    assert [q.type for q in zh] == [q.type for q in en]
    assert [len(q.choices) for q in zh] == [len(q.choices) for q in en]
    assert len({q.title for q in zh}) == len(zh)  # no two questions read the same


def test_repeating_templates_have_a_due_day_and_the_right_respondents() -> None:
    monthly, yearly = template("monthly_report"), template("yearly_stats")
    assert monthly is not None
    assert yearly is not None
    assert (monthly.kind, monthly.repeat, monthly.due_day) == (FormKind.BRANCH, Repeat.MONTHLY, 5)
    assert (yearly.kind, yearly.repeat, yearly.due_day) == (FormKind.BRANCH, Repeat.YEARLY, 20)
    assert cycle_for(monthly.repeat, monthly.due_day, date(2026, 12, 3)).due == date(2026, 12, 5)
    member_update = template("member_update")
    assert member_update is not None
    assert member_update.kind is FormKind.MEMBER


def test_units_in_either_language_are_understood_in_answers() -> None:
    for locale, answer in (("zh_CN", "12人"), ("en", "12 people")):
        _title, _intro, questions = template_form(CATALOG, locale, TEMPLATES[4])
        people = questions[0]
        assert people.type is QType.INTEGER
        assert parse_typed(people, answer) == 12
