"""A burst of 参加 presses on one meeting notice: every answer recorded, answered quickly, and
the group message re-rendered at most once every few seconds.

50 members press 参加 on the same group notice within one second, through the real bot and
the strict emulator with Telegram's flood limits on (and the bot's own flood gate). Figures:
presses recorded in the database, time from press to the callback answer (p50/p95), and the
edits of the group message (how many, and the shortest interval between two). The baseline
is a bare PTB application that only answers the callback, pressed the same way on the same
emulator; the ratios are zhibu / baseline.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
)

from bench.city import backends, scratch_database
from bot.app import ALLOWED_UPDATES, build_application, build_deps
from bot.config import parse_config
from bot.processor import PerChatUpdateProcessor
from domain.compliance import MeetingType
from domain.meetings import Audience
from domain.orgs import Kind, Level, Stage, Status
from services.authz import Actor
from services.groups import bind_chat
from services.meetings import MeetingSpec, publish_meeting
from services.orgs import create_org
from storage.db import Database
from storage.models import MeetingRsvp, Member, User
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuChat, EmuMessage

SUPER = Actor(user_id=0, superadmin=True)
WINDOW = 1.0  # seconds over which the presses are spread
SPREAD = 10.0  # seconds over which the second round of presses is spread (6 when quick)
SETTLE = 20.0  # seconds to wait for the last counter edit


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def _world(emu: Emulator, db: Database, n: int) -> tuple[EmuChat, list[EmuUser], int]:
    """A branch with n started members in a bound group; returns (group, members, org id)."""
    now = datetime.now(UTC)
    committee = await create_org(db, SUPER, name="两新工委", level=Level.COMMITTEE,
                                 kind=Kind.TWO_NEW, parent_id=None, now=now,
                                 today=now.date())  # fmt: skip
    branch = await create_org(db, SUPER, name="第一支部", level=Level.BRANCH, kind=Kind.STANDARD,
                              parent_id=committee.id, now=now, today=now.date())  # fmt: skip
    users = [emu.user(f"党员{i}", language_code="zh-hans") for i in range(n)]
    async with db.transaction() as s:
        await s.execute(
            insert(User),
            [{"id": u.id, "first_name": u.first_name, "language_code": "zh-hans",
              "started": True, "created_at": now, "last_seen_at": now} for u in users],
        )  # fmt: skip
        await s.execute(
            insert(Member),
            [{"org_id": branch.id, "user_id": u.id, "name": f"党员{i}", "stage": Stage.FULL,
              "status": Status.ACTIVE, "source": "admin", "created_at": now, "updated_at": now}
             for i, u in enumerate(users)],
        )  # fmt: skip
    owner = emu.user("书记", language_code="zh-hans")
    group = emu.group("第一支部群", members=[owner, *users], admins=[owner], supergroup=True)
    await group.add_bot(by=owner, admin=True)
    await bind_chat(db, SUPER, group.id, branch.id, make_main=True, now=now, today=now.date())
    return group, users, branch.id


async def _press_all(
    emu: Emulator, users: list[EmuUser], notice: EmuMessage, window: float = WINDOW
) -> tuple[list[float], float]:
    """Everyone presses 参加 within `window` seconds; returns the answer latencies and when
    the first press happened."""
    loop = asyncio.get_running_loop()
    pressed: dict[str, float] = {}

    async def press(index: int, user: EmuUser) -> None:
        await asyncio.sleep(index * window / len(users))
        at = loop.time()
        pressed[await user.press(notice, "参加")] = at

    await asyncio.gather(*(press(i, u) for i, u in enumerate(users)))
    await emu.wait_for(lambda: all(q in emu.callback_answers for q in pressed), timeout=120)
    answered = {
        r.params.get("callback_query_id"): r.finished
        for r in emu.requests
        if r.method.lower() == "answercallbackquery" and r.status == 200
    }
    return [answered[q] - t for q, t in pressed.items()], min(pressed.values())


async def _start(app: Application) -> None:  # type: ignore[type-arg]
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    assert app.updater is not None
    await app.updater.start_polling(allowed_updates=ALLOWED_UPDATES, poll_interval=0, timeout=5)
    await app.start()


async def _stop(app: Application) -> None:  # type: ignore[type-arg]
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    if app.post_stop is not None:
        await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


class Burst:
    """What one round of presses on one notice did."""

    def __init__(self, latencies: list[float], edits: list[float], shown_after: float) -> None:
        self.latencies = latencies
        self.edits = edits  # when each edit of the group notice was sent (loop time)
        self.shown_after = shown_after  # seconds from the first press until all were shown

    @property
    def shortest_gap(self) -> float | None:
        gaps = [b - a for a, b in zip(self.edits, self.edits[1:], strict=False)]
        return min(gaps) if gaps else None


async def _burst(
    emu: Emulator, group: EmuChat, users: list[EmuUser], notice: EmuMessage, window: float
) -> Burst:
    latencies, first = await _press_all(emu, users, notice, window)
    await emu.wait_for(lambda: f"参加 {len(users)} ·" in notice.content, timeout=SETTLE + window)
    edits = [
        r
        for r in emu.requests
        if r.method.lower() == "editmessagetext"
        and r.params.get("chat_id") in (group.id, str(group.id))
        and int(r.params.get("message_id", 0)) == notice.message_id
        and r.status == 200
    ]
    return Burst(
        latencies, sorted(r.started for r in edits), max(r.finished for r in edits) - first
    )


async def _posted(emu: Emulator, group: EmuChat, topic: str) -> EmuMessage:
    """The meeting notice with this topic, once the outbox has posted it."""

    def found() -> EmuMessage | None:
        return next((m for m in emu.sent_to(group) if topic in m.content), None)

    notice: EmuMessage = await emu.wait_for(found, timeout=30)
    return notice


async def _zhibu(
    emu: Emulator, db: Database, tmp: Path, n: int, spread: float
) -> tuple[Burst, Burst, int]:
    """The burst on one notice, then presses spread over `spread` seconds on a second one;
    returns both and the answers recorded in the database."""
    cfg = parse_config(
        {"telegram": {"token": emu.token, "base_url": emu.base_url}, "database": {"url": db.url}},
        config_dir=tmp,
        env={},
    )
    deps = build_deps(cfg, db=db)
    app = build_application(cfg, deps=deps, processor=PerChatUpdateProcessor())
    await _start(app)
    try:
        group, users, org_id = await _world(emu, db, n)
        now = deps.clock.now()
        tz = deps.settings.timezone
        notices: list[EmuMessage] = []
        for topic in ("主题党日", "专题党课"):
            await publish_meeting(
                db,
                SUPER,
                MeetingSpec(
                    org_id=org_id,
                    types=(MeetingType.THEME_DAY,),
                    starts_at=now + timedelta(days=2),
                    place="党员活动室",
                    topic=topic,
                    audience=Audience.BRANCH,
                ),
                now=now,
                today=now.astimezone(tz).date(),
            )
            deps.outbox.wake()
            notices.append(await _posted(emu, group, topic))
        burst = await _burst(emu, group, users, notices[0], WINDOW)
        later = await _burst(emu, group, users, notices[1], spread)
        async with db.read() as s:
            recorded = int(await s.scalar(select(func.count()).select_from(MeetingRsvp)) or 0)
    finally:
        await _stop(app)
    return burst, later, recorded


async def _baseline(emu: Emulator, n: int) -> list[float]:
    """The same burst on a bare PTB app that only answers the callback."""

    async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer("已记录")

    app = ApplicationBuilder().token(emu.token).base_url(emu.base_url).concurrent_updates(True)
    bare = app.build()
    bare.add_handler(CallbackQueryHandler(answer))
    users = [emu.user(f"对照{i}") for i in range(n)]
    owner = emu.user("对照书记")
    group = emu.group("对照群", members=[owner, *users], admins=[owner], supergroup=True)
    await group.add_bot(by=owner, admin=True)
    await _start(bare)
    try:
        await bare.bot.send_message(
            group.id,
            "会议通知",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("参加", callback_data="x")]]),
        )
        notice: EmuMessage = await emu.wait_for(lambda: emu.sent_to(group) and emu.last_sent(group))
        latencies, _ = await _press_all(emu, users, notice)
    finally:
        await _stop(bare)
    return latencies


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def _gap(burst: Burst) -> str:
    gap = burst.shortest_gap
    return f"{gap:.2f} s" if gap is not None else "none (a single edit)"


async def run(*, quick: bool = False) -> None:
    """Print the figures of a 参加 burst for each database, beside the bare PTB baseline."""
    n, seconds = (20, 6.0) if quick else (50, SPREAD)
    for backend in backends():
        emu = Emulator(flood_limits=True)
        await emu.start()
        try:
            with tempfile.TemporaryDirectory() as tmp:
                async with scratch_database(backend) as db:
                    started = time.perf_counter()
                    burst, spread, recorded = await _zhibu(emu, db, Path(tmp), n, seconds)
                    took = time.perf_counter() - started
                base = await _baseline(emu, n)
            violations = list(emu.violations)
        finally:
            await emu.stop()
        z50, z95 = _percentile(burst.latencies, 0.5), _percentile(burst.latencies, 0.95)
        b50, b95 = _percentile(base, 0.5), _percentile(base, 0.95)
        print(
            f"meeting_presses ({backend}): {n} members press 参加 on one notice within "
            f"{WINDOW:.0f} s, flood limits on ({took:.1f} s in all)\n"
            f"  recorded            {recorded} / {2 * n} answers in the database (two notices)\n"
            f"  zhibu answers       p50 {_ms(z50)}   p95 {_ms(z95)}   "
            f"mean {_ms(statistics.fmean(burst.latencies))}\n"
            f"  bare PTB answers    p50 {_ms(b50)}   p95 {_ms(b95)}   "
            f"mean {_ms(statistics.fmean(base))}\n"
            f"  ratio               p50 {z50 / b50:6.2f}x    p95 {z95 / b95:6.2f}x"
            "   (zhibu / bare PTB, same emulator)\n"
            f"  group notice edits  {len(burst.edits)}; shortest interval {_gap(burst)};"
            f" all {n} shown {burst.shown_after:.1f} s after the first press\n"
            f"  spread over {seconds:.0f} s    {len(spread.edits)} edits; shortest interval"
            f" {_gap(spread)} (target ≥ 3 s); all shown {spread.shown_after:.1f} s after the"
            " first press\n"
            f"  emulator violations {len(violations)}"
        )
