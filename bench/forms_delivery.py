"""Forms at city scale: publishing a city-wide member form, and answer steps meanwhile.

On a generated city (2,000 branches with a bound group each, 150,000 members, 85 % on
Telegram) and for each backend, two figures, each beside a baseline in the same run:

1. publish_form of a member form to the whole city with private copies: one transaction that
   records the form and its first cycle and queues a card per group and a copy per reachable
   member. Baseline: publish_notice of the same audience with private copies (the same kind
   of work, which the broadcast bench shows is sent at Telegram's ceiling). Target < 30 s.
2. 100 answer steps per second (open the form, type an answer, submit) by members, each step
   doing what the handler does: the draft read, the transition, the draft saved, the next
   screen read and rendered; the submit taking the draft with the answers. Run while a
   worker drains the broadcast's outbox rows at Telegram's ceiling (claim 64, mark each sent,
   30 a second, as the OutboxWorker does). Baseline: the same steps with the outbox idle.
   Target p95 < 300 ms.

Telegram is not involved: these are the bot's own costs. (bench/broadcast shows the worker
sends at the ceiling; the emulator is not in these figures at all.)
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select

from bench.city import NOW, TODAY, backends, generate_city, scratch_database
from bot.i18n import load_catalog
from domain.forms import FormKind, QType, Question
from domain.forms_wizard import STEPS, AnswerDraft
from domain.orgs import Level
from domain.wizard import Event, Refusal, apply
from services import outbox
from services.authz import Actor
from services.drafts import keep_draft, open_draft
from services.forms import FormSpec, publish_form, submit_draft
from services.forms_answer import Opening, answer_header, open_answer
from services.notices import Audience, NoticeSpec, publish_notice
from storage.db import Database
from storage.models import Chat, ChatBinding, Member, Organization, OutboxItem, User
from ui.forms_answer import question_screen, review_screen

SUPER = Actor(user_id=42, superadmin=True)  # the sender, a user like any other
QUESTIONS = (
    Question(QType.SHORT, "本月学习篇目"),
    Question(QType.INTEGER, "参加组织生活次数", unit="次", low="0", high="31"),
    Question(QType.SINGLE, "学习方式", choices=("集中学习", "自学", "线上学习")),
)
STEP_RATE = 100.0  # answer steps offered per second
CEILING = 30.0  # messages per second Telegram accepts from a bot
CATALOG = load_catalog("zh_CN")  # loaded once, as the bot does at start
TZ = ZoneInfo("Asia/Shanghai")


@dataclass
class Figures:
    publish_s: float = 0.0
    notice_s: float = 0.0
    cards: int = 0
    copies: int = 0
    busy: list[float] = field(default_factory=list)
    quiet: list[float] = field(default_factory=list)
    drained: int = 0
    submitted: int = 0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def _bind_groups(db: Database) -> None:
    """One bound main group per branch, as /bind leaves it."""
    async with db.read() as s:
        branches = list(
            (
                await s.scalars(select(Organization.id).where(Organization.level == Level.BRANCH))
            ).all()
        )
    async with db.transaction() as s:
        await s.execute(
            insert(User),
            [{"id": SUPER.user_id, "first_name": "组织部", "started": True, "created_at": NOW,
              "last_seen_at": NOW}],
        )  # fmt: skip
        chats = {org: -1_000_000_000_000 - org for org in branches}
        await s.execute(
            insert(Chat),
            [{"id": chat, "type": "supergroup", "title": f"支部群{org}",
              "bot_status": "administrator", "created_at": NOW, "updated_at": NOW}
             for org, chat in chats.items()],
        )  # fmt: skip
        await s.execute(
            insert(ChatBinding),
            [{"chat_id": chat, "org_id": org, "purpose": "main", "active": True,
              "bound_at": NOW} for org, chat in chats.items()],
        )  # fmt: skip


async def _committees(db: Database) -> tuple[int, ...]:
    async with db.read() as s:
        return tuple(
            (
                await s.scalars(
                    select(Organization.id).where(Organization.level == Level.COMMITTEE)
                )
            ).all()
        )


async def _answerers(db: Database, count: int) -> list[int]:
    """Telegram ids of members spread over the city."""
    async with db.read() as s:
        rows = (
            await s.scalars(
                select(Member.user_id).where(Member.user_id.is_not(None)).order_by(Member.id)
            )
        ).all()
    step = max(len(rows) // count, 1)
    return [int(u) for u in rows[::step][:count] if u is not None]


async def _answer(db: Database, user_id: int, cycle_id: int, out: list[float], now_s: float) -> int:
    """One member answers the whole form: each step timed as the handler would do it."""
    actor = Actor(user_id)
    now = NOW + timedelta(seconds=now_s)
    started = time.perf_counter()
    opened = await open_answer(db, actor, cycle_id, 0, now=now, today=TODAY)
    assert isinstance(opened, Opening)
    header = await answer_header(db, cycle_id, 0)
    question_screen(CATALOG, "zh_CN", TZ, now, header, opened.draft, {})
    out.append(time.perf_counter() - started)
    for event in (Event("text", text="《党章》"), Event("text", text="4"), Event("pick", 1)):
        await asyncio.sleep(len(out) % 3 / STEP_RATE)
        started = time.perf_counter()
        draft = await open_draft(db, user_id, AnswerDraft)
        assert isinstance(draft, AnswerDraft)
        moved = apply(STEPS, draft, event, now)
        assert not isinstance(moved, Refusal)
        await keep_draft(db, user_id, moved, now)
        header = await answer_header(db, cycle_id, 0)
        if moved.step == "review":
            review_screen(CATALOG, "zh_CN", TZ, now, header, moved, {})
        else:
            question_screen(CATALOG, "zh_CN", TZ, now, header, moved, {})
        out.append(time.perf_counter() - started)
    started = time.perf_counter()
    await submit_draft(db, actor, now=now, today=TODAY)
    out.append(time.perf_counter() - started)
    return 1


async def _steps(db: Database, cycle_id: int, users: list[int], out: list[float]) -> int:
    """Members start answering at STEP_RATE / 5 per second (five steps each: 100 steps/s)."""
    tasks = []
    for n, user_id in enumerate(users):
        tasks.append(asyncio.create_task(_answer(db, user_id, cycle_id, out, n)))
        await asyncio.sleep(5 / STEP_RATE)
    return sum(await asyncio.gather(*tasks))


async def _drain(db: Database, stop: asyncio.Event) -> int:
    """What the outbox worker does to the database while a broadcast goes out at Telegram's
    ceiling: claim a batch of 64, mark each sent as it goes, 30 a second."""
    sent = 0
    message_id = 1
    while not stop.is_set():
        items = await outbox.claim(db, "bench", NOW, 64)
        if not items:
            await asyncio.sleep(0.05)
            continue
        for item in items:
            started = time.perf_counter()
            message_id += 1
            await outbox.mark_sent(db, item.id, message_id, NOW)
            sent += 1
            await asyncio.sleep(max(1 / CEILING - (time.perf_counter() - started), 0))
            if stop.is_set():
                break
    return sent


async def _run(db: Database, answerers: int, out: Figures) -> None:
    committees = await _committees(db)
    audience = Audience(committees, private_copies=True)
    notice = NoticeSpec(
        org_id=committees[0], category="reporting", title="关于报送主题党日情况的通知",
        body_html="请各支部按时报送。", audience=audience, ack_label="received",
    )  # fmt: skip
    started = time.perf_counter()
    await publish_notice(db, SUPER, notice, now=NOW, today=TODAY)
    out.notice_s = time.perf_counter() - started
    async with db.transaction() as s:  # the notice's rows would only slow the drain below
        await s.execute(delete(OutboxItem))
    spec = FormSpec(
        org_id=committees[0], kind=FormKind.MEMBER, title="十二月学习情况", intro="",
        questions=QUESTIONS, audience=audience, deadline=NOW + timedelta(days=7),
    )  # fmt: skip
    started = time.perf_counter()
    published = await publish_form(db, SUPER, spec, now=NOW, today=TODAY)
    out.publish_s = time.perf_counter() - started
    out.cards, out.copies = published.delivered.groups, published.delivered.private_copies
    users = await _answerers(db, answerers * 2)
    stop = asyncio.Event()
    drain = asyncio.create_task(_drain(db, stop))
    out.submitted += await _steps(db, published.cycle.id, users[:answerers], out.busy)
    stop.set()
    out.drained = await drain
    out.submitted += await _steps(db, published.cycle.id, users[answerers:], out.quiet)


def _print(backend: str, branches: int, members: int, f: Figures) -> None:
    b95, q95 = _pct(f.busy, 0.95), _pct(f.quiet, 0.95)
    b50, q50 = (
        statistics.median(f.busy) if f.busy else 0,
        statistics.median(f.quiet) if f.quiet else 0,
    )
    print(
        f"forms_delivery [{backend}]: {branches} branches / {members} members; a member form "
        f"to the city: {f.cards} cards, {f.copies} copies queued; {f.submitted} members answered "
        f"({len(f.busy) + len(f.quiet)} steps), {f.drained} outbox rows drained meanwhile"
    )
    print(f"  {'':<22}{'zhibu':>9}  {'baseline':<22}{'ratio':>6}  target")
    rows = [
        ("publish form s", f"{f.publish_s:.2f}", f"{f.notice_s:.2f} (publish notice)",
         f"{f.publish_s / f.notice_s:.2f}" if f.notice_s else "", "< 30", f.publish_s < 30),
        ("answer step p50 ms", f"{b50 * 1000:.0f}", f"{q50 * 1000:.0f} (outbox idle)",
         f"{b50 / q50:.2f}" if q50 else "", "", True),
        ("answer step p95 ms", f"{b95 * 1000:.0f}", f"{q95 * 1000:.0f} (outbox idle)",
         f"{b95 / q95:.2f}" if q95 else "", "< 300", b95 < 0.3),
    ]  # fmt: skip
    for name, ours, base, ratio, target, met in rows:
        mark = "" if not target else ("  ok" if met else "  MISSED")
        print(f"  {name:<22}{ours:>9}  {base:<22}{ratio:>6}  {target}{mark}")


async def run(*, quick: bool = False) -> None:
    """Print the figures per backend, each beside its baseline."""
    branches, members, answerers = (200, 15_000, 100) if quick else (2000, 150_000, 400)
    for backend in backends():
        async with scratch_database(backend) as db:
            await generate_city(db, branches=branches, members=members)
            await _bind_groups(db)
            figures = Figures()
            await _run(db, answerers, figures)
            _print(backend, branches, members, figures)
