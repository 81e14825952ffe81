"""How forms look: the templates a sender starts from, in the sender's language.

A template is questions whose words are catalog keys; starting from one writes them out in
the sender's language, and the sender may then change anything before sending.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.forms import ROSTER_PHONE, ROSTER_UNIT, FormKind, QType, Question, Repeat, ShowIf
from services.forms_delivery import CardState, CopyState
from ui.callbacks import CallbackData, button
from ui.i18n import Catalog, Html
from ui.render import datetime_text


@dataclass(frozen=True)
class FormOpen(CallbackData):
    """填写 on a private copy or reminder: open this cycle's form (branch_id 0 for a member
    form, else the branch answered for)."""

    prefix: ClassVar[str] = "fo"
    cycle_id: int
    branch_id: int


@dataclass(frozen=True)
class FormChase(CallbackData):
    """催报 on a results screen: remind everyone of this cycle who has not answered, now."""

    prefix: ClassVar[str] = "fch"
    cycle_id: int


@dataclass(frozen=True)
class TemplateQuestion:
    """A question of a template: its type, and catalog keys for its words."""

    type: QType
    title: str
    required: bool = True
    unit: str | None = None
    choices: tuple[str, ...] = ()
    low: str | None = None
    high: str | None = None
    show_if: ShowIf | None = None
    roster: str = ""  # the roster field it pre-fills from and is written back to


@dataclass(frozen=True)
class Template:
    """A ready-made form: who answers, its words (catalog keys), its questions, how often."""

    code: str
    kind: FormKind
    title: str
    intro: str
    questions: tuple[TemplateQuestion, ...]
    repeat: Repeat = Repeat.NONE
    due_day: int = 0


TEMPLATES: tuple[Template, ...] = (
    Template(
        "member_update",
        FormKind.MEMBER,
        "form.tpl.member_update.title",
        "form.tpl.member_update.intro",
        (
            TemplateQuestion(QType.PHONE, "form.tpl.member_update.q1", roster=ROSTER_PHONE),
            TemplateQuestion(QType.SHORT, "form.tpl.member_update.q2", roster=ROSTER_UNIT),
            TemplateQuestion(QType.SHORT, "form.tpl.member_update.q3", required=False),
            TemplateQuestion(
                QType.SINGLE,
                "form.tpl.member_update.q4",
                choices=(
                    "form.tpl.member_update.q4.c1",
                    "form.tpl.member_update.q4.c2",
                    "form.tpl.member_update.q4.c3",
                    "form.tpl.member_update.q4.c4",
                    "form.tpl.member_update.q4.c5",
                ),
            ),
            TemplateQuestion(QType.LONG, "form.tpl.member_update.q5", required=False),
        ),
        repeat=Repeat.NONE,
        due_day=0,
    ),
    Template(
        "monthly_report",
        FormKind.BRANCH,
        "form.tpl.monthly_report.title",
        "form.tpl.monthly_report.intro",
        (
            TemplateQuestion(QType.INTEGER, "form.tpl.monthly_report.q1", low="0", high="31"),
            TemplateQuestion(QType.INTEGER, "form.tpl.monthly_report.q2", low="0", high="31"),
            TemplateQuestion(QType.INTEGER, "form.tpl.monthly_report.q3", low="0", high="100"),
            TemplateQuestion(QType.INTEGER, "form.tpl.monthly_report.q4", low="0", high="31"),
            TemplateQuestion(QType.YES_NO, "form.tpl.monthly_report.q5"),
            TemplateQuestion(
                QType.INTEGER,
                "form.tpl.monthly_report.q6",
                unit="form.tpl.monthly_report.q6.unit",
                low="0",
                show_if=ShowIf(4, (1,)),
            ),
            TemplateQuestion(QType.LONG, "form.tpl.monthly_report.q7", required=False),
            TemplateQuestion(QType.LONG, "form.tpl.monthly_report.q8", required=False),
        ),
        repeat=Repeat.MONTHLY,
        due_day=5,
    ),
    Template(
        "theme_day",
        FormKind.BRANCH,
        "form.tpl.theme_day.title",
        "form.tpl.theme_day.intro",
        (
            TemplateQuestion(QType.DATE, "form.tpl.theme_day.q1"),
            TemplateQuestion(QType.SHORT, "form.tpl.theme_day.q2"),
            TemplateQuestion(
                QType.MULTI,
                "form.tpl.theme_day.q3",
                choices=(
                    "form.tpl.theme_day.q3.c1",
                    "form.tpl.theme_day.q3.c2",
                    "form.tpl.theme_day.q3.c3",
                    "form.tpl.theme_day.q3.c4",
                    "form.tpl.theme_day.q3.c5",
                ),
            ),
            TemplateQuestion(
                QType.INTEGER, "form.tpl.theme_day.q4", unit="form.tpl.theme_day.q4.unit", low="0"
            ),
            TemplateQuestion(
                QType.INTEGER, "form.tpl.theme_day.q5", unit="form.tpl.theme_day.q5.unit", low="0"
            ),
            TemplateQuestion(QType.LONG, "form.tpl.theme_day.q6"),
            TemplateQuestion(QType.ATTACHMENT, "form.tpl.theme_day.q7", required=False),
        ),
        repeat=Repeat.NONE,
        due_day=0,
    ),
    Template(
        "volunteer",
        FormKind.MEMBER,
        "form.tpl.volunteer.title",
        "form.tpl.volunteer.intro",
        (
            TemplateQuestion(QType.YES_NO, "form.tpl.volunteer.q1"),
            TemplateQuestion(
                QType.MULTI,
                "form.tpl.volunteer.q2",
                choices=(
                    "form.tpl.volunteer.q2.c1",
                    "form.tpl.volunteer.q2.c2",
                    "form.tpl.volunteer.q2.c3",
                ),
                show_if=ShowIf(0, (1,)),
            ),
            TemplateQuestion(QType.PHONE, "form.tpl.volunteer.q3", show_if=ShowIf(0, (1,))),
            TemplateQuestion(QType.SHORT, "form.tpl.volunteer.q4", required=False),
        ),
        repeat=Repeat.NONE,
        due_day=0,
    ),
    Template(
        "yearly_stats",
        FormKind.BRANCH,
        "form.tpl.yearly_stats.title",
        "form.tpl.yearly_stats.intro",
        (
            TemplateQuestion(
                QType.INTEGER,
                "form.tpl.yearly_stats.q1",
                unit="form.tpl.yearly_stats.q1.unit",
                low="0",
            ),
            TemplateQuestion(
                QType.INTEGER,
                "form.tpl.yearly_stats.q2",
                unit="form.tpl.yearly_stats.q2.unit",
                low="0",
            ),
            TemplateQuestion(
                QType.INTEGER,
                "form.tpl.yearly_stats.q3",
                unit="form.tpl.yearly_stats.q3.unit",
                low="0",
            ),
            TemplateQuestion(
                QType.INTEGER,
                "form.tpl.yearly_stats.q4",
                unit="form.tpl.yearly_stats.q4.unit",
                low="0",
            ),
            TemplateQuestion(
                QType.INTEGER,
                "form.tpl.yearly_stats.q5",
                unit="form.tpl.yearly_stats.q5.unit",
                low="0",
            ),
            TemplateQuestion(
                QType.INTEGER,
                "form.tpl.yearly_stats.q6",
                unit="form.tpl.yearly_stats.q6.unit",
                low="0",
            ),
            TemplateQuestion(
                QType.INTEGER,
                "form.tpl.yearly_stats.q7",
                unit="form.tpl.yearly_stats.q7.unit",
                low="0",
            ),
            TemplateQuestion(
                QType.DECIMAL,
                "form.tpl.yearly_stats.q8",
                unit="form.tpl.yearly_stats.q8.unit",
                low="0",
            ),
        ),
        repeat=Repeat.YEARLY,
        due_day=20,
    ),
)


def template(code: str) -> Template | None:
    """The template of this code, if there is one."""
    return next((t for t in TEMPLATES if t.code == code), None)


def template_form(
    catalog: Catalog, locale: str, chosen: Template
) -> tuple[str, str, tuple[Question, ...]]:
    """The template written out in `locale`: title, intro and questions."""
    questions = tuple(
        Question(
            type=q.type,
            title=catalog.plain(locale, q.title),
            required=q.required,
            unit=catalog.plain(locale, q.unit) if q.unit else "",
            low=q.low,
            high=q.high,
            choices=tuple(catalog.plain(locale, c) for c in q.choices),
            show_if=q.show_if,
            roster=q.roster,
        )
        for q in chosen.questions
    )
    return catalog.plain(locale, chosen.title), catalog.plain(locale, chosen.intro), questions


# ---- the group card and the private copy ----

LINK_PREFIX = "f_"  # /start f_<cycle>_<branch>: the card's 填写 link opens the form privately


def answer_link_payload(cycle_id: int, branch_id: int) -> str:
    """The /start payload of a card's 填写 link."""
    return f"{LINK_PREFIX}{cycle_id}_{branch_id}"


def parse_answer_link(payload: str) -> tuple[int, int] | None:
    """(cycle, branch) of a 填写 link payload, or None when it is not one (or forged)."""
    parts = payload.removeprefix(LINK_PREFIX).split("_")
    if not payload.startswith(LINK_PREFIX) or len(parts) != 2:
        return None
    if not all(p.isdigit() and len(p) < 19 for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def render_card(
    catalog: Catalog,
    locale: str,
    tz: ZoneInfo,
    now: datetime,
    state: CardState,
    bot_username: str,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A group's card: 📝 title · 截止 date · 已填 n/m, with 填写 opening the form privately."""
    key = "form.card.branch" if state.kind is FormKind.BRANCH else "form.card.member"
    text = catalog.t(
        locale, key, title=state.title,
        deadline=datetime_text(catalog, locale, state.deadline, tz, now),
        answered=state.answered, expected=state.expected,
    )  # fmt: skip
    if state.closed:
        return catalog.t(locale, "form.card.closed", card=Html(text)), None
    link = f"https://t.me/{bot_username}?start={answer_link_payload(state.cycle_id, state.org_id)}"
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(catalog.plain(locale, "form.card.fill"), url=link)]]
    )
    return text, markup


def render_copy(
    catalog: Catalog, locale: str, tz: ZoneInfo, now: datetime, state: CopyState
) -> tuple[str, InlineKeyboardMarkup]:
    """A private copy: what the form is, for which branch, by when, and 填写."""
    deadline = datetime_text(catalog, locale, state.deadline, tz, now)
    if state.kind is FormKind.BRANCH:
        text = catalog.t(
            locale, "form.copy.branch", title=state.title, branch=state.branch,
            deadline=deadline, questions=state.questions,
        )  # fmt: skip
    else:
        text = catalog.t(
            locale, "form.copy.member", title=state.title, deadline=deadline,
            questions=state.questions,
        )  # fmt: skip
    if state.intro:
        text = catalog.t(locale, "form.copy.with_intro", head=Html(text), intro=state.intro)
    markup = InlineKeyboardMarkup(
        [
            [
                button(
                    catalog.plain(locale, "form.card.fill"),
                    FormOpen(state.cycle_id, state.branch_id),
                )
            ]
        ]
    )
    return text, markup
