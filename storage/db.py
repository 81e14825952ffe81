"""Engine and transactions: one `async with db.transaction()` per user intent."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

SQLITE_BUSY_TIMEOUT_MS = 5000
# asyncpg waits 60 s by default for a server that accepted the connection but never answers;
# an operator should hear within seconds that the database is silent.
PG_CONNECT_TIMEOUT_SECONDS = 5.0
READONLY = "zhibu_readonly"
# Reads whose every statement stands alone (read_now): no BEGIN around them, as on PostgreSQL.
NO_BEGIN = "zhibu_no_begin"
T = TypeVar("T")
CHECKPOINT_SECONDS = 10.0
log = logging.getLogger(__name__)
# A small write that can share a transaction with others: synchronous, given a Connection.
Work = Callable[[Connection], T]


class DatabaseUnavailable(Exception):
    """The database could not be reached or opened."""


def _sqlite_setup(engine: Engine) -> None:
    """WAL lets readers run beside the writer; BEGIN IMMEDIATE avoids lock-upgrade deadlocks."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Readers take no lock in WAL mode; writers take the write lock up front so two
        # writers wait on busy_timeout instead of failing with "database is locked".
        options = conn.get_execution_options()
        if options.get(NO_BEGIN):
            return  # each statement is its own transaction (the driver's autocommit)
        conn.exec_driver_sql("BEGIN" if options.get(READONLY) else "BEGIN IMMEDIATE")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for SQLite (file, WAL) or PostgreSQL, chosen by the URL alone."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs.update(
            pool_size=10,
            max_overflow=10,
            pool_pre_ping=True,
            connect_args={"timeout": PG_CONNECT_TIMEOUT_SECONDS},
        )
    engine = create_async_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_setup(engine.sync_engine)
    return engine


class Database:
    """The bot's database: an engine plus a session factory."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = create_engine(url, echo=echo)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = async_sessionmaker(
            self.engine.execution_options(**{READONLY: True}), expire_on_commit=False
        )
        # SQLite has one writer at a time. Writers of this process queue here, in order,
        # instead of in SQLite's busy handler, which polls with sleeps of up to 100 ms and
        # so turns a busy moment into a convoy. Other processes still meet busy_timeout.
        self._writer: asyncio.Lock | None = None
        self._writer_loop: asyncio.AbstractEventLoop | None = None
        self._together: _GroupCommit | None = None
        self._inloop: _InLoop | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _write_lock(self) -> asyncio.Lock | None:
        if self.dialect != "sqlite":
            return None
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer_loop is not loop:  # tests run many loops
            self._writer, self._writer_loop = asyncio.Lock(), loop
        return self._writer

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Open a session in one transaction: commit on success, roll back on error."""
        async with AsyncExitStack() as stack:
            lock = self._write_lock()
            if lock is not None:
                await stack.enter_async_context(lock)
            session = await stack.enter_async_context(self.sessions())
            await stack.enter_async_context(session.begin())
            yield session

    async def write_together(self, work: Work[T]) -> T:
        """Run a small write and return its result once committed, in one transaction with
        the writes waiting at that moment (group commit); on SQLite, inline.

        `work` gets a synchronous Connection and must only use it: no awaiting, no other
        effects, since it may run twice (if one of a batch fails, the others run again
        each in a transaction of its own, and only it fails). On PostgreSQL too the writes
        of a moment share a transaction: a commit is a round trip and a WAL flush, and a
        hundred presses a second each paying for one kept the server and the bot busy.
        """
        lock = self._write_lock()
        fast = self._fast_path()
        if self.dialect == "sqlite" and fast is None:  # an in-memory database: no batching
            async with self.transaction() as session:
                return await session.run_sync(_on_connection, work)
        together = self._together
        if together is None or together.loop is not asyncio.get_running_loop():
            together = self._together = _GroupCommit(self, lock, fast)
        return await together.submit(work)

    async def read_now(self, query: Work[T]) -> T:
        """Run a small read (point lookups by key, what every update needs) and return its
        result; on SQLite it runs at once on the event loop's own thread.

        Through aiosqlite each statement is several round trips to a driver thread; at a
        hundred presses a second those trips, not SQLite, were most of the bot's CPU and
        each waited for the busy loop. A keyed lookup takes SQLite microseconds, and WAL
        readers never wait for a lock, so running it inline is cheaper and never blocks.
        Anything that scans belongs in `read()`. Each statement sees what is committed when
        it runs (no transaction spans them, on either database).
        """
        fast = self._fast_path()
        if fast is not None:
            return fast.read(query)
        if self.dialect == "postgresql":
            # No BEGIN and ROLLBACK around a lookup: two round trips fewer, and at READ
            # COMMITTED each statement sees what a transaction would have shown it.
            async with self.engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                return await auto.run_sync(query)
        async with self.read() as session:
            return await session.run_sync(_on_connection, query)

    def _fast_path(self) -> _InLoop | None:
        if self.dialect != "sqlite":
            return None
        if self._inloop is None:
            database = make_url(self.url).database
            if database in (None, "", ":memory:"):
                return None  # another connection would see another database
            self._inloop = _InLoop(self.url)
        return self._inloop

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """Open a session for reading only: on SQLite it does not take the write lock."""
        async with self._read_sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Raise DatabaseUnavailable unless a trivial query succeeds."""
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            raise DatabaseUnavailable(unreachable_reason(exc)) from exc

    async def dispose(self) -> None:
        """Close every pooled connection (after a WAL checkpoint in flight has finished)."""
        together = self._together
        if together is not None and together.checkpoint is not None:
            # Left to the loop's end it would run on a disposed engine, or be destroyed
            # pending when the loop closes.
            await asyncio.gather(together.checkpoint, return_exceptions=True)
        await self.engine.dispose()
        if self._inloop is not None:
            self._inloop.close()
            self._inloop = None
            self._together = None  # it writes through the connection just closed


class Busy(Exception):
    """Another process holds SQLite's write lock: the write goes the waiting way instead."""


class _InLoop:
    """SQLite connections used synchronously on the event loop's thread, for small keyed
    statements only (see read_now and write_together).

    They never wait: busy_timeout is 0 (a write lock held by another process, such as a
    `zhibu members import`, raises Busy and the write is done through aiosqlite, which
    waits in its thread), and they never checkpoint the WAL, which can take an fsync:
    checkpoints happen on the aiosqlite connections' commits, in their threads.
    """

    def __init__(self, url: str) -> None:
        self.engine = create_sync_engine(
            make_url(url).set(drivername="sqlite"),
            connect_args={"timeout": 0, "check_same_thread": False},
            pool_size=2,
            max_overflow=0,
        )
        _sqlite_setup(self.engine)

        @event.listens_for(self.engine, "connect")
        def _inline(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA busy_timeout=0")
            cur.execute("PRAGMA wal_autocheckpoint=0")
            cur.close()

        # A lookup is one or two keyed statements: BEGIN and COMMIT around them cost more
        # than the statements did, and each already sees a committed state (see read_now).
        self.reader = self.engine.connect().execution_options(**{READONLY: True, NO_BEGIN: True})
        self.writer = self.engine.connect()

    def read(self, query: Work[T]) -> T:
        with self.reader.begin():
            return query(self.reader)

    def write(self, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
        """Every work in one transaction, or each alone if one fails; Busy if another
        process is writing."""
        try:
            with self.writer.begin():
                return [(True, work(self.writer)) for work in works]
        except OperationalError as exc:
            if _is_busy(exc):
                raise Busy from exc
            if len(works) == 1:
                return [(False, exc)]
        except Exception as exc:  # noqa: BLE001 - handed to the caller whose work failed
            if len(works) == 1:
                return [(False, exc)]
        return [self.write([work])[0] for work in works]

    def close(self) -> None:
        self.reader.close()
        self.writer.close()
        self.engine.dispose()


def _is_busy(exc: OperationalError) -> bool:
    return "locked" in str(exc.orig) or "busy" in str(exc.orig)


class _GroupCommit:
    """The writes waiting while one batch is written go together in the next."""

    def __init__(self, db: Database, lock: asyncio.Lock | None, fast: _InLoop | None) -> None:
        self.db = db
        self.lock = lock
        self.fast = fast
        self.loop = asyncio.get_running_loop()
        self.waiting: list[tuple[Work[Any], asyncio.Future[Any]]] = []
        self.task: asyncio.Task[None] | None = None
        self.checkpointed = self.loop.time()
        self.checkpoint: asyncio.Task[None] | None = None

    async def submit(self, work: Work[T]) -> T:
        future: asyncio.Future[T] = self.loop.create_future()
        self.waiting.append((work, future))
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self.waiting:
            batch, self.waiting = self.waiting, []
            works = [work for work, _ in batch]
            try:
                if self.fast is None or self.lock is None:  # PostgreSQL
                    outcomes = await self._write_waiting(works)
                else:
                    async with self.lock:  # in line with this process's other writers
                        try:
                            outcomes = self.fast.write(works)
                        except Busy:  # another process writes: wait for it in a thread
                            outcomes = await self._write_waiting(works)
            except Exception as exc:  # noqa: BLE001 - e.g. the file is gone: every caller hears
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled (the loop is closing): nobody is told "done"
                for _, future in batch:
                    future.cancel()
                raise
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():
                    continue  # its caller gave up waiting; the write stands
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
            if self.fast is not None:
                self._checkpoint_now_and_then()

    async def _write_waiting(self, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
        """The batch through the async driver (on SQLite, the process's write lock is held)."""
        try:
            async with self.db.sessions() as session, session.begin():
                return [(True, await session.run_sync(_on_connection, work)) for work in works]
        except Exception as exc:  # noqa: BLE001 - handed to the caller whose work failed
            if len(works) == 1:
                return [(False, exc)]
        return [(await self._write_waiting([work]))[0] for work in works]

    def _checkpoint_now_and_then(self) -> None:
        # The inline connection never checkpoints (an fsync would stall the loop); when
        # its commits are most of the writes, the WAL is folded back here, in a thread.
        if self.loop.time() - self.checkpointed < CHECKPOINT_SECONDS:
            return
        if self.checkpoint is not None and not self.checkpoint.done():
            return
        self.checkpointed = self.loop.time()
        self.checkpoint = self.loop.create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        try:
            async with self.db.engine.connect() as conn:
                # On the driver's connection: through SQLAlchemy a transaction would begin
                # first, and SQLite does not checkpoint inside one.
                raw = await conn.get_raw_connection()
                driver: Any = raw.driver_connection
                cursor = await driver.execute("PRAGMA wal_checkpoint(PASSIVE)")
                await cursor.close()
        except Exception:
            log.warning("WAL checkpoint failed", exc_info=True)


def _on_connection(session: Session, work: Work[T]) -> T:
    return work(session.connection())


def unreachable_reason(exc: BaseException) -> str:
    """Why a connection failed, in one line (a bare timeout says nothing by itself)."""
    if isinstance(exc, TimeoutError):
        return (
            f"no answer within {PG_CONNECT_TIMEOUT_SECONDS:g} s: is it the database's "
            "address and port, and is the server up?"
        )
    return _one_line(exc)


def _one_line(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text_[0] if text_ else ''}"
