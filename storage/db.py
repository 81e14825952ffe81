"""Engine and transactions: one `async with db.transaction()` per user intent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, event, text
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

SQLITE_BUSY_TIMEOUT_MS = 5000
READONLY = "zhibu_readonly"
T = TypeVar("T")
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
        readonly = conn.get_execution_options().get(READONLY)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for SQLite (file, WAL) or PostgreSQL, chosen by the URL alone."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if parsed.get_backend_name() == "sqlite":
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
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
        self._sync: tuple[Engine, ThreadPoolExecutor] | None = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _write_lock(self) -> asyncio.Lock | None:
        if self.dialect != "sqlite":
            return None
        loop = asyncio.get_running_loop()
        if self._writer is None or self._writer_loop is not loop:  # tests run many loops
            self._writer, self._writer_loop = asyncio.Lock(), loop
            self._together = None
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
        """Run a small write and return its result once committed; on SQLite it shares one
        transaction with the writes waiting at that moment (group commit).

        SQLite has one writer, and through aiosqlite every statement, BEGIN and COMMIT is a
        round trip to a driver thread and back through the event loop: a one-row UPDATE
        held the write lock ~8 ms under load, and a hundred presses a second plus a
        broadcast's marks kept it busy most of the time. The writes waiting together run
        in one trip to a thread of their own, on a synchronous connection. `work` must
        only use the connection (no awaiting, no other effects): if one of a batch fails,
        the others are run again each in a transaction of its own, and only it fails.
        PostgreSQL takes concurrent writers: each write is its own transaction there.
        """
        lock = self._write_lock()
        if lock is None or self._sync_engine() is None:
            async with self.transaction() as session:
                return await session.run_sync(lambda sync: work(sync.connection()))
        if self._together is None:
            self._together = _GroupCommit(self, lock)
        return await self._together.submit(work)

    def _sync_engine(self) -> tuple[Engine, ThreadPoolExecutor] | None:
        """A synchronous engine on the same SQLite file, used from one thread of its own."""
        if self._sync is None:
            parsed = make_url(self.url)
            if parsed.database in (None, "", ":memory:"):
                return None  # another connection would see another database
            engine = create_sync_engine(
                parsed.set(drivername="sqlite"),
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
                pool_size=1,
                max_overflow=0,
            )
            _sqlite_setup(engine)
            self._sync = engine, ThreadPoolExecutor(1, thread_name_prefix="zhibu-writer")
        return self._sync

    def _run_together(self, works: list[Work[Any]]) -> list[tuple[bool, Any]]:
        """In the writer thread: every work in one transaction, or each alone if one fails."""
        assert self._sync is not None
        engine = self._sync[0]
        try:
            with engine.begin() as conn:
                return [(True, work(conn)) for work in works]
        except Exception as exc:  # noqa: BLE001 - handed to the caller whose work failed
            if len(works) == 1:
                return [(False, exc)]
        return [self._run_together([work])[0] for work in works]

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
            raise DatabaseUnavailable(_one_line(exc)) from exc

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
        if self._sync is not None:
            engine, thread = self._sync
            self._sync = None
            await asyncio.get_running_loop().run_in_executor(thread, engine.dispose)
            thread.shutdown()


class _GroupCommit:
    """The SQLite writes waiting while one batch is written go together in the next."""

    def __init__(self, db: Database, lock: asyncio.Lock) -> None:
        self.db = db
        self.lock = lock
        self.loop = asyncio.get_running_loop()
        self.waiting: list[tuple[Work[Any], asyncio.Future[Any]]] = []
        self.task: asyncio.Task[None] | None = None

    async def submit(self, work: Work[T]) -> T:
        future: asyncio.Future[T] = self.loop.create_future()
        self.waiting.append((work, future))
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        sync = self.db._sync_engine()
        assert sync is not None
        while self.waiting:
            batch, self.waiting = self.waiting, []
            try:
                async with self.lock:  # in line with this process's other writers
                    outcomes = await self.loop.run_in_executor(
                        sync[1], self.db._run_together, [work for work, _ in batch]
                    )
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


def _one_line(exc: BaseException) -> str:
    text_ = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text_[0] if text_ else ''}"
