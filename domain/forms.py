"""Forms (信息报送): questions, what a valid answer is, which question comes next, and how answers
add up from member to branch to committee. Pure rules; texts are codes, time is an argument.

A form is a title, an intro and numbered questions. Member forms are answered by every member
of the audience; branch forms once per branch by its secretary, deputy, organization member or
information officer. A form may repeat (monthly, quarterly, yearly): each cycle is answered and
kept on its own.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from domain.validation import Invalid, clean_text, parse_date, parse_phone

TITLE_MAX = 60
INTRO_MAX = 1000
QUESTION_MAX = 200
HINT_MAX = 200
SHORT_MAX = 200
LONG_MAX = 3000
CHOICES_MAX = 12
CHOICE_MAX = 30
COLUMNS_MAX = 6
ROWS_MAX = 50
QUESTIONS_MAX = 40
MEMBERS_MAX = 200
# Aggregates of an anonymous form are shown only from this many answers on, so that no
# answer can be traced back to a person by elimination.
ANONYMOUS_MIN = 5
DECIMAL_PLACES = 4


class FormKind(StrEnum):
    """Who answers: each member of the audience, or each branch once."""

    MEMBER = "member"
    BRANCH = "branch"


class QType(StrEnum):
    """The kinds of question."""

    SHORT = "short"  # one line of text
    LONG = "long"  # a paragraph
    INTEGER = "int"
    DECIMAL = "dec"
    SINGLE = "one"  # one of the choices
    MULTI = "many"  # any of the choices
    YES_NO = "yn"
    DATE = "date"
    PHONE = "phone"  # personal data
    MEMBERS = "members"  # people picked from the branch roster
    ATTACHMENT = "file"  # a photo or a document
    ROWS = "rows"  # a small table: one row per volunteer, each with typed columns


TYPED = frozenset({QType.SHORT, QType.LONG, QType.INTEGER, QType.DECIMAL, QType.DATE, QType.PHONE})
CHOSEN = frozenset({QType.SINGLE, QType.MULTI, QType.YES_NO})
COLUMN_TYPES = frozenset(
    {QType.SHORT, QType.INTEGER, QType.DECIMAL, QType.DATE, QType.PHONE, QType.YES_NO}
)
NUMERIC = frozenset({QType.INTEGER, QType.DECIMAL})
PERSONAL = frozenset({QType.PHONE, QType.ATTACHMENT})


class LatePolicy(StrEnum):
    """After the deadline: answers accepted and marked 迟报, or refused."""

    ACCEPT = "accept"
    REFUSE = "refuse"


class Repeat(StrEnum):
    """How often a form is issued again."""

    NONE = "none"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    YEARLY = "yearly"


@dataclass(frozen=True)
class Column:
    """One column of a repeated-rows question."""

    title: str
    type: QType = QType.SHORT


@dataclass(frozen=True)
class ShowIf:
    """Ask a question only when an earlier one (by index) was answered with one of `values`.

    Values are choice indexes for single/multiple choice and 1/0 for yes/no.
    """

    question: int
    values: tuple[int, ...]


# Roster fields a question may be tied to: pre-filled from the member's entry, and written
# back to it when the branch approves a 党员信息更新 answer.
ROSTER_PHONE = "phone"
ROSTER_UNIT = "unit"
ROSTER_FIELDS = frozenset({ROSTER_PHONE, ROSTER_UNIT})


@dataclass(frozen=True)
class Question:
    """One question of a form."""

    type: QType
    title: str
    hint: str = ""
    required: bool = True
    unit: str = ""  # numbers: 人, 元, 次
    low: str | None = None  # numbers: inclusive bounds, as decimal text
    high: str | None = None
    choices: tuple[str, ...] = ()
    columns: tuple[Column, ...] = ()
    show_if: ShowIf | None = None
    # The roster field the answer pre-fills from and (党员信息更新) is written back to.
    roster: str = ""


@dataclass(frozen=True)
class Attachment:
    """A photo or document answered: Telegram's file id, kept opaque here."""

    kind: str  # "photo" | "document"
    file_id: str
    name: str = ""


# An answer value, as stored (JSON-ready): text, int, decimal text, choice index(es), bool,
# ISO date, phone digits, member ids, an attachment, or rows of column values.
Value = (
    str
    | int
    | bool
    | tuple[int, ...]
    | Attachment
    | tuple[tuple[str | int | bool | None, ...], ...]
)


# ---- checking a form as the sender builds it ----


def check_title(text: str) -> str | Invalid:
    """A form's title: one line, not empty, at most TITLE_MAX characters."""
    return _line(text, TITLE_MAX, "form.title")


def check_question_title(text: str) -> str | Invalid:
    """A question's wording."""
    return _line(text, QUESTION_MAX, "form.question")


def parse_choices(text: str) -> tuple[str, ...] | Invalid:
    """Choices typed one per line (or separated by 、 ， ; /): 2–12 distinct short labels."""
    parts = [
        clean_text(p) for p in re.split(r"[\n、，,;；/|]+", unicodedata.normalize("NFC", text))
    ]
    choices = tuple(dict.fromkeys(p for p in parts if p))
    if len(choices) < 2:
        return Invalid("form.choices.too_few")
    if len(choices) > CHOICES_MAX:
        return Invalid("form.choices.too_many")
    if any(len(c) > CHOICE_MAX for c in choices):
        return Invalid("form.choices.too_long")
    return choices


def parse_bounds(text: str) -> tuple[str | None, str | None] | Invalid:
    """Number bounds as typed: "0-100", "0~100", "≥0", "<=500", "0 到 100"; "-" for none."""
    value = unicodedata.normalize("NFKC", text).replace(" ", "")
    if value in ("", "-", "无", "none"):
        return None, None
    if m := re.fullmatch(r"(?:>=|≥|不少于|至少)(-?[\d.]+)", value):
        low = _decimal_text(m[1])
        return (low, None) if low is not None else Invalid("form.bounds.invalid")
    if m := re.fullmatch(r"(?:<=|≤|不超过|至多)(-?[\d.]+)", value):
        high = _decimal_text(m[1])
        return (None, high) if high is not None else Invalid("form.bounds.invalid")
    if m := re.fullmatch(r"(-?[\d.]+)(?:-|~|到|至)(-?[\d.]+)", value):
        low, high = _decimal_text(m[1]), _decimal_text(m[2])
        if low is None or high is None:
            return Invalid("form.bounds.invalid")
        if Decimal(low) > Decimal(high):
            return Invalid("form.bounds.order")
        return low, high
    return Invalid("form.bounds.invalid")


def check_form(questions: Sequence[Question]) -> Invalid | None:
    """Why a form cannot be sent as it stands, or None."""
    if not questions:
        return Invalid("form.no_questions")
    if len(questions) > QUESTIONS_MAX:
        return Invalid("form.too_many_questions")
    for index, q in enumerate(questions):
        if q.type in (QType.SINGLE, QType.MULTI) and len(q.choices) < 2:
            return Invalid("form.choices.too_few")
        if q.type is QType.ROWS and not q.columns:
            return Invalid("form.columns.none")
        if q.show_if is not None:
            cond = q.show_if
            if not 0 <= cond.question < index:
                return Invalid("form.show_if.order")
            source = questions[cond.question]
            if source.type not in CHOSEN or not cond.values:
                return Invalid("form.show_if.source")
            limit = 2 if source.type is QType.YES_NO else len(source.choices)
            if any(not 0 <= v < limit for v in cond.values):
                return Invalid("form.show_if.source")
    return None


# ---- answering ----

# 18-digit resident identity numbers (17 digits and a check digit or X) and the old 15-digit
# ones. The project keeps none: a typed one is refused before it is stored.
_ID_18 = re.compile(r"(?<!\d)(\d{6})(\d{8})(\d{3})([\dXx])(?!\d)")
_ID_15 = re.compile(r"(?<!\d)(\d{6})(\d{6})(\d{3})(?!\d)")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def contains_id_number(text: str) -> bool:
    """Whether the text holds something that is a valid Chinese ID-card number."""
    value = unicodedata.normalize("NFKC", text).replace(" ", "")
    for m in _ID_18.finditer(value):
        body = m[1] + m[2] + m[3]
        check = _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
        if check == m[4].upper() and _birth_date(m[2]):
            return True
    return any(_birth_date("19" + m[2]) for m in _ID_15.finditer(value))


def _birth_date(digits: str) -> bool:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return date(1900, 1, 1) <= born <= date(2100, 1, 1)


def parse_typed(question: Question, text: str) -> Value | Invalid:
    """A typed answer to a text, number, date or phone question, or why it is refused."""
    if contains_id_number(text):
        return Invalid("form.answer.id_card")
    kind = question.type
    if kind is QType.SHORT:
        return _line(text, SHORT_MAX, "form.answer")
    if kind is QType.LONG:
        value = _paragraph(text)
        if not value:
            return Invalid("form.answer.empty")
        return value if len(value) <= LONG_MAX else Invalid("form.answer.too_long")
    if kind in NUMERIC:
        return _number(question, text)
    if kind is QType.DATE:
        day = parse_date(text)
        return day.isoformat() if isinstance(day, date) else Invalid("form.answer.date")
    if kind is QType.PHONE:
        phone = parse_phone(text)
        return phone if isinstance(phone, str) else Invalid("form.answer.phone")
    return Invalid("form.answer.use_buttons")


def choose(question: Question, picked: int, current: Value | None = None) -> Value | Invalid:
    """A choice pressed: the index for single choice, toggled in the set for multiple, bool for
    yes/no (1 = yes)."""
    if question.type is QType.YES_NO:
        return picked == 1 if picked in (0, 1) else Invalid("stale")
    if not 0 <= picked < len(question.choices):
        return Invalid("stale")
    if question.type is QType.SINGLE:
        return picked
    if question.type is QType.MULTI:
        chosen = set(current) if isinstance(current, tuple) else set()
        chosen ^= {picked}
        return tuple(sorted(int(c) for c in chosen))  # type: ignore[call-overload]
    return Invalid("stale")


def parse_row(question: Question, text: str) -> tuple[str | int | bool | None, ...] | Invalid:
    """One row of a repeated-rows question, its cells separated by ， , ； or tabs."""
    if contains_id_number(text):
        return Invalid("form.answer.id_card")
    cells = [clean_text(c) for c in re.split(r"[，,；;\t|]", unicodedata.normalize("NFC", text))]
    columns = question.columns
    if len(cells) != len(columns):
        return Invalid("form.row.cells")
    row: list[str | int | bool | None] = []
    for column, cell in zip(columns, cells, strict=True):
        if not cell:
            row.append(None)
            continue
        if column.type is QType.YES_NO:
            yes = _yes_no(cell)
            if yes is None:
                return Invalid("form.row.yes_no")
            row.append(yes)
            continue
        value = parse_typed(Question(column.type, column.title), cell)
        if isinstance(value, Invalid):
            return Invalid("form.row." + value.code.rsplit(".", 1)[-1])
        row.append(value if isinstance(value, (str, int, bool)) else str(value))
    if all(v is None for v in row):
        return Invalid("form.answer.empty")
    return tuple(row)


def _yes_no(text: str) -> bool | None:
    value = text.strip().lower()
    if value in ("是", "有", "y", "yes", "√", "✓", "1", "对"):
        return True
    if value in ("否", "无", "没有", "n", "no", "×", "0", "不是"):
        return False
    return None


def is_answered(value: Value | None) -> bool:
    """Whether a stored value counts as an answer (an empty selection or table does not)."""
    if value is None:
        return False
    if isinstance(value, tuple):
        return len(value) > 0
    return not (isinstance(value, str) and not value)


def visible(questions: Sequence[Question], answers: Mapping[int, Value]) -> list[int]:
    """The questions to ask, given the answers so far (conditions on earlier answers)."""
    shown: list[int] = []
    for index, q in enumerate(questions):
        cond = q.show_if
        if cond is None:
            shown.append(index)
            continue
        if cond.question not in shown:
            continue
        answer = answers.get(cond.question)
        if isinstance(answer, bool):
            picked: set[int] = {1 if answer else 0}
        elif isinstance(answer, int):
            picked = {answer}
        elif isinstance(answer, tuple):
            picked = {v for v in answer if isinstance(v, int)}
        else:
            picked = set()
        if picked & set(cond.values):
            shown.append(index)
    return shown


def next_question(
    questions: Sequence[Question], answers: Mapping[int, Value], after: int | None
) -> int | None:
    """The question after `after` (None: the first) still to be shown; None at the end."""
    for index in visible(questions, answers):
        if after is None or index > after:
            return index
    return None


def previous_question(
    questions: Sequence[Question], answers: Mapping[int, Value], before: int
) -> int | None:
    """The shown question before `before`; None when `before` is the first."""
    earlier = [i for i in visible(questions, answers) if i < before]
    return earlier[-1] if earlier else None


def kept_answers(questions: Sequence[Question], answers: Mapping[int, Value]) -> dict[int, Value]:
    """The answers of the questions still shown: a changed condition drops what it hid."""
    shown = set(visible(questions, answers))
    return {i: v for i, v in answers.items() if i in shown}


def missing(questions: Sequence[Question], answers: Mapping[int, Value]) -> list[int]:
    """The required shown questions without an answer (submit is refused while any remain)."""
    return [
        i
        for i in visible(questions, answers)
        if questions[i].required and not is_answered(answers.get(i))
    ]


# ---- deadlines and cycles ----


class Timeliness(StrEnum):
    """How an answer stands against its deadline."""

    ON_TIME = "on_time"
    LATE = "late"  # 迟报
    MISSING = "missing"


def may_answer(policy: LatePolicy, deadline: datetime, now: datetime) -> bool:
    """Whether an answer (or a change to one) is taken now."""
    return now <= deadline or policy is LatePolicy.ACCEPT


def timeliness(submitted_at: datetime | None, deadline: datetime) -> Timeliness:
    """On time, late or missing."""
    if submitted_at is None:
        return Timeliness.MISSING
    return Timeliness.ON_TIME if submitted_at <= deadline else Timeliness.LATE


@dataclass(frozen=True)
class Cycle:
    """One issue of a repeating form: the period it reports on, when it opens, its last day."""

    key: str  # "2026-11", "2026-Q3", "2026"
    period_start: date
    period_end: date
    opens: date
    due: date  # the last day answers are on time (till the end of that day, local time)


def cycle_for(repeat: Repeat, due_day: int, today: date) -> Cycle:
    """The cycle open on `today`: it reports on the period just ended, opens on the first day
    after it, and is due on day `due_day` of the opening month (clamped to the month's end).

    "每月5日前报送上月党建工作情况": monthly, due_day 5 → on 2026-12-03 the cycle is "2026-11",
    opened 2026-12-01, due 2026-12-05.
    """
    if repeat is Repeat.MONTHLY:
        end = today.replace(day=1) - timedelta(days=1)
        start, key = end.replace(day=1), f"{end.year}-{end.month:02d}"
    elif repeat is Repeat.QUARTERLY:
        first_month = 3 * ((today.month - 1) // 3) + 1
        end = today.replace(month=first_month, day=1) - timedelta(days=1)
        start = end.replace(month=end.month - 2, day=1)
        key = f"{end.year}-Q{(end.month - 1) // 3 + 1}"
    elif repeat is Repeat.YEARLY:
        end = date(today.year - 1, 12, 31)
        start, key = date(today.year - 1, 1, 1), str(today.year - 1)
    else:
        raise ValueError("a one-off form has no cycles")
    opens = end + timedelta(days=1)
    last = calendar.monthrange(opens.year, opens.month)[1]
    return Cycle(key, start, end, opens, opens.replace(day=min(max(due_day, 1), last)))


def next_cycle(repeat: Repeat, due_day: int, after: Cycle) -> Cycle:
    """The cycle that opens after `after` (for the job that issues each one once)."""
    probe = after.opens
    while True:
        probe = (probe.replace(day=1) + timedelta(days=32)).replace(day=1)
        cycle = cycle_for(repeat, due_day, probe)
        if cycle.key != after.key:
            return cycle


# ---- adding answers up ----


@dataclass(frozen=True)
class Tally:
    """What the answers to one question add up to."""

    answered: int = 0
    counts: tuple[int, ...] = ()  # per choice (yes/no: no, yes)
    total: Decimal | None = None  # numbers: sum; rows: number of rows
    low: Decimal | None = None
    high: Decimal | None = None

    @property
    def mean(self) -> Decimal | None:
        """The average of numeric answers, half-up to 2 places."""
        if self.total is None or not self.answered:
            return None
        return (self.total / self.answered).quantize(Decimal("0.01"), ROUND_HALF_UP)


def tally(question: Question, values: Iterable[Value | None]) -> Tally:
    """The tally of one question over some answers (one branch's, or anyone's)."""
    answered = 0
    width = 2 if question.type is QType.YES_NO else len(question.choices)
    counts = [0] * width
    total: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    for value in values:
        if not is_answered(value):
            continue
        answered += 1
        if question.type is QType.YES_NO and isinstance(value, bool):
            counts[int(value)] += 1
        elif question.type is QType.SINGLE and isinstance(value, int):
            if 0 <= value < width:
                counts[value] += 1
        elif question.type is QType.MULTI and isinstance(value, tuple):
            for v in value:
                if isinstance(v, int) and 0 <= v < width:
                    counts[v] += 1
        elif question.type in NUMERIC and isinstance(value, (int, str)):
            number = Decimal(value) if not isinstance(value, bool) else Decimal(int(value))
            total = number if total is None else total + number
            low = number if low is None else min(low, number)
            high = number if high is None else max(high, number)
        elif question.type is QType.ROWS and isinstance(value, tuple):
            total = (total or Decimal(0)) + len(value)
    return Tally(answered, tuple(counts), total, low, high)


def combine(parts: Iterable[Tally]) -> Tally:
    """Branch tallies added into a committee's: the whole equals the sum of its parts."""
    answered = 0
    counts: list[int] = []
    total: Decimal | None = None
    low: Decimal | None = None
    high: Decimal | None = None
    for part in parts:
        answered += part.answered
        if len(counts) < len(part.counts):
            counts += [0] * (len(part.counts) - len(counts))
        for i, c in enumerate(part.counts):
            counts[i] += c
        if part.total is not None:
            total = part.total if total is None else total + part.total
        if part.low is not None:
            low = part.low if low is None else min(low, part.low)
        if part.high is not None:
            high = part.high if high is None else max(high, part.high)
    return Tally(answered, tuple(counts), total, low, high)


def shown_for_anonymous(answers: int) -> bool:
    """Whether an anonymous form's aggregates may be shown yet."""
    return answers >= ANONYMOUS_MIN


# ---- a sheet's header row becomes questions ----

_HEADER_HINTS: tuple[tuple[re.Pattern[str], QType], ...] = (
    (re.compile(r"手机|电话|联系方式|phone|mobile", re.I), QType.PHONE),
    (re.compile(r"日期|时间|生日|出生|date", re.I), QType.DATE),
    (re.compile(r"^是否|yes/no", re.I), QType.YES_NO),
    (re.compile(r"金额|元|费用|amount|cost", re.I), QType.DECIMAL),
    (re.compile(r"人数|数量|次数|个数|count|number of", re.I), QType.INTEGER),
    (re.compile(r"情况|说明|内容|心得|体会|备注|description|notes?", re.I), QType.LONG),
)


@dataclass(frozen=True)
class Guess:
    """What a column of an uploaded sheet looks like: its question type, and choices if any."""

    title: str
    type: QType
    choices: tuple[str, ...] = field(default=())


def guess_question(header: str, cells: Sequence[object]) -> Guess | None:
    """The question a sheet's column suggests (None for a blank column)."""
    title = clean_text(str(header or ""))
    values = [v for v in cells if v is not None and str(v).strip() != ""]
    if not title:
        return None
    texts = [clean_text(str(v)) for v in values]
    for pattern, kind in _HEADER_HINTS:
        if pattern.search(title):
            return Guess(title[:QUESTION_MAX], kind)
    if values and all(isinstance(v, (date, datetime)) for v in values):
        return Guess(title[:QUESTION_MAX], QType.DATE)
    if values and all(
        isinstance(v, bool) or _yes_no(t) is not None for v, t in zip(values, texts, strict=True)
    ):
        return Guess(title[:QUESTION_MAX], QType.YES_NO)
    if values and all(isinstance(parse_phone(t), str) for t in texts):
        return Guess(title[:QUESTION_MAX], QType.PHONE)
    if values and all(_decimal_text(t) is not None for t in texts):
        whole = all(
            Decimal(_decimal_text(t) or "0") == int(Decimal(_decimal_text(t) or "0")) for t in texts
        )
        return Guess(title[:QUESTION_MAX], QType.INTEGER if whole else QType.DECIMAL)
    distinct = list(dict.fromkeys(texts))
    repeated = 2 <= len(distinct) <= min(CHOICES_MAX, 6) and len(texts) >= 2 * len(distinct)
    if repeated and all(len(d) <= CHOICE_MAX for d in distinct):
        return Guess(title[:QUESTION_MAX], QType.SINGLE, tuple(distinct))
    if any(len(t) > 50 for t in texts):
        return Guess(title[:QUESTION_MAX], QType.LONG)
    return Guess(title[:QUESTION_MAX], QType.SHORT)


# ---- small helpers ----


def _line(text: str, limit: int, prefix: str) -> str | Invalid:
    value = clean_text(text)
    if not value:
        return Invalid(f"{prefix}.empty")
    if len(value) > limit:
        return Invalid(f"{prefix}.too_long")
    return value


def _paragraph(text: str) -> str:
    """Text with its line breaks kept (a reflection has paragraphs), otherwise cleaned."""
    lines = [clean_text(line) for line in unicodedata.normalize("NFC", text).splitlines()]
    return "\n".join(lines).strip()


def _decimal_text(text: str) -> str | None:
    value = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "")
    if not re.fullmatch(r"-?\d+(\.\d+)?", value):
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None
    return format(number.normalize(), "f") if number != 0 else "0"


def _number(question: Question, text: str) -> Value | Invalid:
    value = unicodedata.normalize("NFKC", text).strip()
    if question.unit and value.endswith(question.unit):
        value = value[: -len(question.unit)].strip()
    number_text = _decimal_text(value)
    if number_text is None:
        return Invalid("form.answer.number")
    number = Decimal(number_text)
    if question.type is QType.INTEGER and number != number.to_integral_value():
        return Invalid("form.answer.integer")
    if number.as_tuple().exponent < -DECIMAL_PLACES:  # type: ignore[operator]
        return Invalid("form.answer.decimals")
    if question.low is not None and number < Decimal(question.low):
        return Invalid("form.answer.too_small")
    if question.high is not None and number > Decimal(question.high):
        return Invalid("form.answer.too_large")
    return int(number) if question.type is QType.INTEGER else number_text


# ---- keeping questions and answers as JSON ----


def question_to_json(question: Question) -> dict[str, object]:
    """A question as stored with its form."""
    return {
        "type": question.type.value,
        "title": question.title,
        "hint": question.hint,
        "required": question.required,
        "unit": question.unit,
        "low": question.low,
        "high": question.high,
        "choices": list(question.choices),
        "columns": [{"title": c.title, "type": c.type.value} for c in question.columns],
        "show_if": (
            None
            if question.show_if is None
            else {"question": question.show_if.question, "values": list(question.show_if.values)}
        ),
        "roster": question.roster,
    }


def question_from_json(data: Mapping[str, object]) -> Question:
    """A stored question."""
    show_if = data.get("show_if")
    columns = data.get("columns") or []
    return Question(
        type=QType(str(data["type"])),
        title=str(data["title"]),
        hint=str(data.get("hint") or ""),
        required=bool(data.get("required", True)),
        unit=str(data.get("unit") or ""),
        low=None if data.get("low") is None else str(data["low"]),
        high=None if data.get("high") is None else str(data["high"]),
        choices=tuple(str(c) for c in data.get("choices") or []),  # type: ignore[attr-defined]
        columns=tuple(
            Column(str(c["title"]), QType(str(c["type"])))
            for c in columns  # type: ignore[attr-defined]
        ),
        show_if=(
            None
            if not isinstance(show_if, Mapping)
            else ShowIf(int(show_if["question"]), tuple(int(v) for v in show_if["values"]))
        ),
        roster=str(data.get("roster") or "") if data.get("roster") in ROSTER_FIELDS else "",
    )


def value_to_json(value: Value) -> object:
    """An answer as stored."""
    if isinstance(value, Attachment):
        return {"kind": value.kind, "file_id": value.file_id, "name": value.name}
    if isinstance(value, tuple):
        return [list(v) if isinstance(v, tuple) else v for v in value]
    return value


def value_from_json(question: Question, raw: object) -> Value | None:
    """A stored answer, read as its question's type (None when it does not fit)."""
    kind = question.type
    if raw is None:
        return None
    if kind is QType.ATTACHMENT and isinstance(raw, Mapping):
        return Attachment(str(raw["kind"]), str(raw["file_id"]), str(raw.get("name") or ""))
    if kind is QType.ROWS and isinstance(raw, list):
        return tuple(tuple(row) for row in raw if isinstance(row, list))
    if kind in (QType.MULTI, QType.MEMBERS) and isinstance(raw, list):
        return tuple(int(v) for v in raw)
    if kind is QType.YES_NO and isinstance(raw, bool):
        return raw
    if kind in (QType.SINGLE, QType.INTEGER) and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and kind not in (QType.SINGLE, QType.INTEGER, QType.YES_NO):
        return raw
    return None


def answers_to_json(answers: Mapping[int, Value]) -> dict[str, object]:
    """All answers of a response as stored: {"0": value, …}."""
    return {str(i): value_to_json(v) for i, v in sorted(answers.items())}


def answers_from_json(
    questions: Sequence[Question], data: Mapping[str, object]
) -> dict[int, Value]:
    """Stored answers, each read as its question's type; what does not fit is dropped."""
    answers: dict[int, Value] = {}
    for key, raw in data.items():
        if not key.isdigit() or int(key) >= len(questions):
            continue
        value = value_from_json(questions[int(key)], raw)
        if value is not None:
            answers[int(key)] = value
    return answers
