"""Notices at city scale: a broadcast, presses during it, 150,000 acknowledgements, receipts.

On a generated city (2,000 branches, 150,000 members, every member with a Telegram account)
and for each backend, four figures, each beside a baseline:

1. A notice to every branch through the real bot (build_application: the real FloodGate and
   OutboxWorker) polling a strict emulator with Telegram's flood limits on: messages/s from
   publish to the last copy sent, and the 429 answers. Baseline: the 30 msg/s ceiling.
2. Meanwhile 100 presses per second of 收到 by members on copies already delivered:
   press → answerCallbackQuery latency. Baseline: the same presses with no broadcast running
   (afterwards, with the outbox idle and the counter job paused).
3. 150,000 acknowledgements through services.notices.acknowledge with bounded concurrency,
   then the table counted. Baseline: the same rows in one bulk INSERT.
4. The receipts view (/receipts: per-branch counts, undelivered copies) of the 2,000-branch
   notice holding those acknowledgements, and for information the export's data (every
   name and time, for the XLSX). Baseline: one bare SELECT of the audience's member rows.

The emulator (Telegram's side: the users pressing, the flood limits, the API) runs in a
process of its own, as Telegram runs on other machines: the bot's process pays only for the
bot. Both processes share the monotonic clock, so press → answer is measured across them.
Ratios are reported, never asserted. Targets (issue 4): ≥ 28 msg/s with zero 429s,
press p95 < 300 ms, no acknowledgement lost, receipts < 1 s.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import statistics
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, insert, literal, select, update
from telegram.ext import Application

from bench.city import backends, generate_city, scratch_database
from bot.app import ALLOWED_UPDATES, build_application, build_deps
from bot.config import parse_config
from bot.processor import PerChatUpdateProcessor
from domain.orgs import Level, Status
from services.authz import Actor, descendants
from services.notices import (
    Audience,
    NoticeSpec,
    acknowledge,
    publish_notice,
    receipts,
    set_report_message,
)
from services.notices_admin import receipt_summary
from storage.db import Database
from storage.models import (
    Acknowledgement,
    Chat,
    ChatBinding,
    ChatPresence,
    Member,
    Organization,
    OutboxItem,
    User,
)

TZ = ZoneInfo("Asia/Shanghai")
CEILING = 30.0  # Telegram's (and the emulator's) messages per second overall
# Presses per second (the figure); the environment variable explores other loads.
PRESS_RATE = float(os.environ.get("ZHIBU_BENCH_PRESS_RATE", "100"))
PRESSERS_PER_GROUP = 5  # members who press during the broadcast
SPARE_PER_GROUP = 2  # members who press afterwards, for the baseline
LINKED_BASE = 7_000_000_000  # Telegram ids given to the city's members without an account
TITLE = "关于开展主题党日活动的通知"


@dataclass(frozen=True)
class Sizes:
    branches: int
    members: int
    baseline_presses: int
    ack_concurrency: int
    receipt_runs: int


@dataclass
class Figures:
    """One backend's results."""

    built: float = 0.0
    groups: int = 0
    delivered: int = 0
    publish_ms: float = 0.0
    rate: float = 0.0
    broadcast_seconds: float = 0.0
    too_many: int = 0
    presses: list[float] = field(default_factory=list)
    quiet_presses: list[float] = field(default_factory=list)
    unanswered: int = 0
    alerts: int = 0
    violations: int = 0
    errors: int = 0
    acks: int = 0
    acks_recorded: int = 0
    ack_rate: float = 0.0
    bulk_rate: float = 0.0
    receipt_ms: float = 0.0
    export_ms: float = 0.0
    receipt_lines: int = 0
    select_ms: float = 0.0


def _now() -> datetime:
    return datetime.now(UTC)


def _today() -> date:
    return _now().astimezone(TZ).date()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "–"


# ---------------------------------------------------------------- Telegram's side


class Presser:
    """Members pressing 收到 on delivered copies at a steady rate, timed to the answer."""

    def __init__(self, emu: Any, pressers: dict[int, list[Any]]) -> None:
        self.emu = emu
        self.pressers = pressers  # chat id → emulator users (in that group)
        self.ready: deque[tuple[Any, Any]] = deque()
        self.spare: deque[tuple[Any, Any]] = deque()
        self.delivered = 0
        self._seen = 0
        self.pressed: dict[str, float] = {}  # query id → monotonic time of the press

    def scan(self) -> None:
        """Find copies delivered since the last scan: their members may now press."""
        messages = list(self.emu.messages.values())
        for message in messages[self._seen :]:
            if message.from_bot and message.chat.is_group and message.reply_markup:
                self.delivered += 1
                users = self.pressers.get(message.chat_id, [])
                self.ready.extend((u, message) for u in users[:PRESSERS_PER_GROUP])
                self.spare.extend((u, message) for u in users[PRESSERS_PER_GROUP:])
        self._seen = len(messages)

    async def run(self, until: asyncio.Event | None, limit: int | None = None) -> None:
        """Press at PRESS_RATE until `until` is set, or `limit` presses (or nobody) are left."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        count = 0
        while (until is None or not until.is_set()) and (limit is None or count < limit):
            self.scan()
            if not self.ready:
                if until is None:
                    return  # every copy is out: nobody else will be able to press
                await asyncio.sleep(0.02)
                due = loop.time()
                continue
            user, message = self.ready.popleft()
            pressed_at = loop.time()
            qid = await user.press(message, message.buttons[0][0].callback_data)
            self.pressed[qid] = pressed_at
            count += 1
            due += 1 / PRESS_RATE
            await asyncio.sleep(max(0.0, due - loop.time()))

    async def answered(self, timeout: float = 20.0) -> None:
        """Wait until every press was answered (Telegram gives up on a query after 15 s)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while loop.time() < end and any(q not in self.emu.callback_answers for q in self.pressed):
            await asyncio.sleep(0.1)

    def timings(self) -> dict[str, Any]:
        """ms from press to the answer reaching Telegram; presses unanswered; refusals."""
        answered: dict[str, float] = {}
        for rec in self.emu.requests:
            if rec.method == "answerCallbackQuery" and rec.status == 200:
                qid = str(rec.params.get("callback_query_id"))
                if qid in self.pressed and qid not in answered:
                    answered[qid] = rec.started
        alerts = sum(1 for q in answered if self.emu.callback_answers[q].show_alert)
        ms = [(answered[q] - t) * 1000 for q, t in self.pressed.items() if q in answered]
        return {"ms": ms, "unanswered": len(self.pressed) - len(answered), "alerts": alerts}


async def _telegram(conn: Connection) -> None:
    """The emulator process: builds the groups, then presses and times on request."""
    from tests.emulator import Emulator  # only this process needs the emulator

    loop = asyncio.get_running_loop()
    emu = Emulator(flood_limits=True)
    await emu.start()
    presser: Presser | None = None
    try:
        while True:
            command, arg = await loop.run_in_executor(None, conn.recv)
            try:
                done = await _serve(emu, conn, command, arg, presser)
            except Exception as exc:  # tell the bot's side instead of leaving it waiting
                conn.send({"error": f"{command}: {exc!r}"})
                raise
            if done is None:
                return
            presser = done
    finally:
        await emu.stop()


async def _serve(
    emu: Any, conn: Connection, command: str, arg: Any, presser: Presser | None
) -> Presser | None:
    """Answer one request of the bot's side; None once it is time to stop."""
    if command == "world":
        sender = emu.user("组织部", language_code="zh-hans")
        chats: dict[int, int] = {}
        pressers: dict[int, list[Any]] = {}
        for org_id, uids in arg:
            users = [emu.user("用户", id=uid) for uid in uids]
            group = emu.group(f"支部群{org_id}", members=[sender, *users], admins=[sender],
                              supergroup=True)  # fmt: skip
            await group.add_bot(by=sender, admin=True)
            chats[org_id] = group.id
            pressers[group.id] = users
        # The bot need not greet 2,000 groups it joined long ago.
        emu.drop_pending_updates()
        conn.send({"token": emu.token, "base_url": emu.base_url,
                   "base_file_url": emu.base_file_url, "sender": sender.id,
                   "chats": chats})  # fmt: skip
        return Presser(emu, pressers)
    assert presser is not None
    if command == "greet":
        await emu.users[arg].start()  # its greeting becomes the sender's progress message
        greeting = await emu.wait_for(lambda: emu.sent_to(arg), timeout=30)
        conn.send(greeting[-1].message_id)
    elif command == "broadcast":
        first, too_many = len(emu.requests), emu.stats["429"]
        done = asyncio.Event()
        pressing = asyncio.create_task(presser.run(done))
        conn.send("ready")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + arg / 10 + 60  # an overloaded bot is reported, not waited for
        while presser.delivered < arg and loop.time() < deadline:
            await asyncio.sleep(0.02)
            presser.scan()
        done.set()
        await pressing
        await presser.answered()
        copies = [
            r.finished
            for r in emu.requests[first:]
            if r.method == "sendMessage" and r.status == 200 and int(r.params["chat_id"]) < 0
        ]
        conn.send({"last": max(copies, default=loop.time()), "delivered": len(copies),
                   "429": emu.stats["429"] - too_many, **presser.timings()})  # fmt: skip
    elif command == "baseline":
        presser.pressed.clear()
        presser.ready = presser.spare
        await presser.run(None, limit=arg)
        await presser.answered()
        conn.send(presser.timings())
    elif command == "stop":
        conn.send({"violations": len(emu.violations)})
        return None
    return presser


def _telegram_process(conn: Connection) -> None:
    asyncio.run(_telegram(conn))


# ---------------------------------------------------------------- the city


async def _link_everyone(db: Database) -> None:
    """Give every member without a Telegram account one (the generated city links 85 %)."""
    now = _now()
    async with db.transaction() as s:
        unlinked = select(
            (Member.id + LINKED_BASE).label("id"),
            literal("用户").label("first_name"),
            literal(True).label("started"),
            literal(now).label("created_at"),
            literal(now).label("last_seen_at"),
        ).where(Member.user_id.is_(None))
        await s.execute(
            insert(User).from_select(
                ["id", "first_name", "started", "created_at", "last_seen_at"], unlinked
            )
        )
        await s.execute(
            update(Member).where(Member.user_id.is_(None)).values(user_id=Member.id + LINKED_BASE)
        )
        # A city where the bot has run for months: what Telegram will say of each person is
        # what we stored, last seen an hour ago (so each press refreshes that, as in life).
        await s.execute(
            update(User).values(first_name="用户", last_name=None, username=None,
                                language_code=None, last_seen_at=now - timedelta(hours=1))
        )  # fmt: skip


async def _committees(db: Database) -> list[int]:
    async with db.read() as s:
        return list(
            (
                await s.scalars(
                    select(Organization.id)
                    .where(Organization.level == Level.COMMITTEE)
                    .order_by(Organization.id)
                )
            ).all()
        )


def _spec(committees: list[int], title: str = TITLE) -> NoticeSpec:
    return NoticeSpec(
        org_id=committees[0],
        category="meeting",
        title=title,
        body_html="请各支部<b>按时</b>组织，并于本周五前报送活动情况。",
        audience=Audience(org_ids=tuple(committees)),
        ack_label="received",
    )


async def _any_user(db: Database) -> int:
    async with db.read() as s:
        user_id = await s.scalar(select(User.id).order_by(User.id).limit(1))
    assert user_id is not None
    return user_id


# ---------------------------------------------------------------- 1 and 2: the broadcast


async def _groups_and_pressers(db: Database) -> list[tuple[int, list[int]]]:
    """Each branch with the members (Telegram ids) who will press in its group."""
    async with db.read() as s:
        branches = list(
            (
                await s.scalars(
                    select(Organization.id)
                    .where(Organization.level == Level.BRANCH)
                    .order_by(Organization.id)
                )
            ).all()
        )
        rows = (
            await s.execute(
                select(Member.org_id, Member.user_id)
                .where(Member.status == Status.ACTIVE, Member.user_id.is_not(None))
                .order_by(Member.org_id, Member.id)
            )
        ).all()
    people: dict[int, list[int]] = {}
    for org_id, user_id in rows:
        pick = people.setdefault(org_id, [])
        if len(pick) < PRESSERS_PER_GROUP + SPARE_PER_GROUP and user_id is not None:
            pick.append(user_id)
    return [(org_id, people.get(org_id, [])) for org_id in branches]


async def _bind(
    db: Database, sender: int, chats: dict[int, int], people: list[tuple[int, list[int]]]
) -> None:
    """The groups bound as the branches' main groups, as /bind would leave them, with the
    members who will press known to be in them (seen an hour ago)."""
    now = _now()
    async with db.transaction() as s:
        await s.execute(
            insert(User),
            [{"id": sender, "first_name": "组织部", "language_code": "zh-hans", "started": True,
              "created_at": now, "last_seen_at": now}],
        )  # fmt: skip
        await s.execute(
            insert(Chat),
            [{"id": chat, "type": "supergroup", "title": f"支部群{org}",
              "bot_status": "administrator", "created_at": now, "updated_at": now}
             for org, chat in chats.items()],
        )  # fmt: skip
        await s.execute(
            insert(ChatBinding),
            [{"chat_id": chat, "org_id": org, "purpose": "main", "active": True,
              "bound_by": sender, "bound_at": now} for org, chat in chats.items()],
        )  # fmt: skip
        await s.execute(
            insert(ChatPresence),
            [{"chat_id": chats[org], "user_id": uid, "seen_at": now - timedelta(hours=1)}
             for org, uids in people if org in chats for uid in uids],
        )  # fmt: skip


async def _start_bot(
    db: Database, world: dict[str, Any]
) -> tuple[Application, PerChatUpdateProcessor, list[object]]:  # type: ignore[type-arg]
    """The bot as `zhibu run` builds it (flood gate, outbox worker), polling the emulator."""
    cfg = parse_config(
        {
            "telegram": {"token": world["token"], "base_url": world["base_url"],
                         "base_file_url": world["base_file_url"]},
            "database": {"url": db.url},
        },
        config_dir=Path("."),
        env={},
    )  # fmt: skip
    processor = PerChatUpdateProcessor()
    app = build_application(cfg, deps=build_deps(cfg, db=db), processor=processor)
    errors: list[object] = []

    async def record(_update: object, context: object) -> None:
        errors.append(getattr(context, "error", None))

    app.add_error_handler(record)
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=0, timeout=5)
    await app.start()
    return app, processor, errors


async def _stop_bot(app: Application) -> None:  # type: ignore[type-arg]
    """As on SIGTERM: finish what is in hand (the outbox worker's batch too), then close."""
    assert app.updater is not None
    if app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
        if app.post_stop is not None:
            await app.post_stop(app)
    await app.shutdown()  # the database stays open: the benchmark goes on with it


async def _quiet(
    db: Database,
    app: Application,  # type: ignore[type-arg]
    processor: PerChatUpdateProcessor,
    timeout: float,
) -> None:
    """Wait (up to `timeout`) until no update is waiting or running and the outbox is idle."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        async with db.read() as s:
            busy = await s.scalar(
                select(func.count())
                .select_from(OutboxItem)
                .where(OutboxItem.status.in_(["pending", "sending"]))
            )
        if not busy and processor.idle and app.update_queue.empty():
            return
        await asyncio.sleep(0.2)


async def _broadcast(db: Database, sizes: Sizes, out: Figures) -> None:
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")
    conn, child_conn = context.Pipe()
    telegram = context.Process(target=_telegram_process, args=(child_conn,), daemon=True)
    telegram.start()

    def receive() -> Any:
        while not conn.poll(0.5):
            if not telegram.is_alive():
                raise RuntimeError("the emulator process died")
        answer = conn.recv()
        if isinstance(answer, dict) and "error" in answer:
            raise RuntimeError(f"emulator process: {answer['error']}")
        return answer

    async def ask(command: str, arg: Any = None) -> Any:
        conn.send((command, arg))
        return await loop.run_in_executor(None, receive)

    app: Application | None = None  # type: ignore[type-arg]
    try:
        people = await _groups_and_pressers(db)
        world = await ask("world", people)
        sender: int = world["sender"]
        chats = {int(org): chat for org, chat in world["chats"].items()}
        out.groups = len(chats)
        await _bind(db, sender, chats, people)
        committees = await _committees(db)
        app, processor, errors = await _start_bot(db, world)
        deps = app.bot_data.deps
        report_message = await ask("greet", sender)

        assert await ask("broadcast", out.groups) == "ready"
        started = time.monotonic()
        published = await publish_notice(
            db, Actor(sender, superadmin=True), _spec(committees), now=_now(), today=_today()
        )
        out.publish_ms = (time.monotonic() - started) * 1000
        await set_report_message(db, published.notice.id, sender, report_message)
        deps.outbox.wake()
        during = await loop.run_in_executor(None, receive)
        out.broadcast_seconds = during["last"] - started
        out.delivered = during["delivered"]
        out.rate = out.delivered / out.broadcast_seconds
        out.too_many = during["429"]
        out.presses = during["ms"]

        # Baseline: the same presses with nothing else going on.
        assert app.job_queue is not None
        for job in app.job_queue.get_jobs_by_name("notice-counters"):
            job.enabled = False
        async with db.transaction() as s:
            await s.execute(
                update(OutboxItem)
                .where(OutboxItem.purpose == "counter", OutboxItem.status == "pending")
                .values(status="cancelled")
            )
        await _quiet(db, app, processor, 120)
        quiet = await ask("baseline", sizes.baseline_presses)
        out.quiet_presses = quiet["ms"]
        out.unanswered = during["unanswered"] + quiet["unanswered"]
        out.alerts = during["alerts"] + quiet["alerts"]
        await _stop_bot(app)
        out.errors = len(errors)
        app = None
        out.violations = (await ask("stop"))["violations"]
    finally:
        if app is not None:
            await _stop_bot(app)
        await loop.run_in_executor(None, telegram.join, 10)
        if telegram.is_alive():
            telegram.terminate()


# ---------------------------------------------------------------- 3 and 4: acks and receipts


async def _acknowledgements(db: Database, sizes: Sizes, out: Figures) -> int:
    committees = await _committees(db)
    sender = Actor(await _any_user(db), superadmin=True)
    notice = await publish_notice(
        db, sender, _spec(committees, "专题学习：全市党员确认"), now=_now(), today=_today()
    )
    notice_id = notice.notice.id
    async with db.read() as s:
        ids = await descendants(s, set(committees))
        people = list(
            (
                await s.execute(
                    select(Member.user_id, Member.id, Member.org_id)
                    .where(Member.org_id.in_(ids), Member.status == Status.ACTIVE)
                    .order_by(Member.id)
                )
            ).all()
        )
    out.acks = len(people)
    queue = deque(user_id for user_id, _, _ in people if user_id is not None)
    outcomes: dict[str, int] = {}

    async def worker() -> None:
        while queue:
            result = await acknowledge(db, queue.popleft(), notice_id, _now())
            outcomes[result.status] = outcomes.get(result.status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(sizes.ack_concurrency)))
    out.ack_rate = out.acks / (time.perf_counter() - started)
    async with db.read() as s:
        out.acks_recorded = int(
            await s.scalar(
                select(func.count())
                .select_from(Acknowledgement)
                .where(Acknowledgement.notice_id == notice_id)
            )
            or 0
        )
    if outcomes.get("ok", 0) != out.acks:
        print(f"  acknowledge outcomes: {outcomes}")

    # Baseline: the same rows, for another notice, in one bulk INSERT (removed afterwards).
    other = await publish_notice(db, sender, _spec(committees, "基线"), now=_now(), today=_today())
    now = _now()
    rows = [{"notice_id": other.notice.id, "user_id": u, "member_id": m, "org_id": o,
             "acked_at": now} for u, m, o in people]  # fmt: skip
    started = time.perf_counter()
    async with db.transaction() as s:
        await s.execute(insert(Acknowledgement), rows)
    out.bulk_rate = len(rows) / (time.perf_counter() - started)
    async with db.transaction() as s:
        await s.execute(delete(Acknowledgement).where(Acknowledgement.notice_id == other.notice.id))
    return notice_id


async def _receipts(db: Database, notice_id: int, sizes: Sizes, out: Figures) -> None:
    """The /receipts screen (per-branch counts and undelivered copies), and the XLSX export's
    data (every name and time), each beside a bare SELECT of the audience's member rows."""
    actor = Actor(await _any_user(db), superadmin=True)
    committees = await _committees(db)
    async with db.read() as s:
        ids = list(await descendants(s, set(committees)))
    view: list[float] = []
    export: list[float] = []
    base: list[float] = []
    for _ in range(sizes.receipt_runs):
        started = time.perf_counter()
        summary = await receipt_summary(db, actor, notice_id, _today())
        view.append((time.perf_counter() - started) * 1000)
        assert sum(b.acked for b in summary.branches) == out.acks_recorded
        started = time.perf_counter()
        result = await receipts(db, actor, notice_id, _today())
        export.append((time.perf_counter() - started) * 1000)
        out.receipt_lines = result.expected
        assert result.acked == out.acks_recorded
        started = time.perf_counter()
        async with db.read() as s:
            (
                await s.execute(
                    select(Member.id, Member.org_id, Member.name, Member.user_id).where(
                        Member.org_id.in_(ids), Member.status == Status.ACTIVE
                    )
                )
            ).all()
        base.append((time.perf_counter() - started) * 1000)
    out.receipt_ms, out.select_ms = statistics.median(view), statistics.median(base)
    out.export_ms = statistics.median(export)


# ---------------------------------------------------------------- the report


def _print(backend: str, sizes: Sizes, f: Figures) -> None:
    p50, p95 = _pct(f.presses, 0.5), _pct(f.presses, 0.95)
    q50, q95 = _pct(f.quiet_presses, 0.5), _pct(f.quiet_presses, 0.95)
    lost = f.acks - f.acks_recorded
    rows = [
        ("broadcast msg/s", f"{f.rate:.2f}", f"{CEILING:.0f} (ceiling)", f"{f.rate / CEILING:.3f}",
         "≥ 28 (0.93)", f.rate >= 28 and f.delivered == f.groups),
        ("  429 answers", f"{f.too_many}", "0", "", "0", f.too_many == 0),
        ("press→answer p50 ms", f"{p50:.0f}", f"{q50:.0f}", _ratio(p50, q50), "", True),
        ("press→answer p95 ms", f"{p95:.0f}", f"{q95:.0f}", _ratio(p95, q95), "< 300", p95 < 300),
        ("acks/s", f"{f.ack_rate:.0f}", f"{f.bulk_rate:.0f} (bulk)",
         _ratio(f.ack_rate, f.bulk_rate), f"{lost} lost", lost == 0),
        ("receipts view ms", f"{f.receipt_ms:.0f}", f"{f.select_ms:.0f} (SELECT)",
         _ratio(f.receipt_ms, f.select_ms), "< 1000", f.receipt_ms < 1000),
        ("  export data ms", f"{f.export_ms:.0f}", f"{f.select_ms:.0f} (SELECT)",
         _ratio(f.export_ms, f.select_ms), "", True),
    ]  # fmt: skip
    print(
        f"broadcast [{backend}]: {sizes.branches} branches / {sizes.members} members, all on "
        f"Telegram (built in {f.built:.0f} s); a notice to {f.groups} groups (publish "
        f"{f.publish_ms:.0f} ms, {f.delivered} copies, the last after "
        f"{f.broadcast_seconds:.1f} s); {PRESS_RATE:.0f} presses/s: "
        f"{len(f.presses)} presses during it, {len(f.quiet_presses)} after; "
        f"{f.acks} acknowledgements; receipts of {f.receipt_lines} people"
    )
    print(f"  {'':<21}{'zhibu':>9}  {'baseline':<16}{'ratio':>6}  target")
    for name, ours, base, ratio, target, met in rows:
        mark = "" if not target else ("  ok" if met else "  MISSED")
        print(f"  {name:<21}{ours:>9}  {base:<16}{ratio:>6}  {target}{mark}")
    if f.unanswered or f.alerts or f.violations or f.errors:
        print(
            f"  problems: {f.unanswered} presses unanswered, {f.alerts} refused, "
            f"{f.violations} emulator violations, {f.errors} handler errors"
        )


async def run(*, quick: bool = False) -> None:
    """Print the four figures per backend, each beside its baseline."""
    sizes = (
        Sizes(branches=200, members=15_000, baseline_presses=300, ack_concurrency=8,
              receipt_runs=3)
        if quick
        else Sizes(branches=2000, members=150_000, baseline_presses=1000, ack_concurrency=8,
                   receipt_runs=5)
    )  # fmt: skip
    for backend in backends():
        async with scratch_database(backend) as db:
            figures = Figures()
            started = time.perf_counter()
            await generate_city(db, branches=sizes.branches, members=sizes.members)
            await _link_everyone(db)
            figures.built = time.perf_counter() - started
            await _broadcast(db, sizes, figures)
            notice_id = await _acknowledgements(db, sizes, figures)
            await _receipts(db, notice_id, sizes, figures)
            _print(backend, sizes, figures)
