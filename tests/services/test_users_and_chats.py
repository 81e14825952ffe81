"""People and groups the bot has seen."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from domain.orgs import Level, Role
from services.chats import get_chat, migrate_chat, record_bot_status
from services.users import Person, set_locale, set_private_chat_status, touch_user
from storage.db import Database
from tests.conftest import FakeClock
from tests.services.factories import linked_member, office, org

WANG = Person(id=5_000_000_001, first_name="王芳", language_code="zh-hans")


async def test_first_contact_creates_the_user(db: Database, clock: FakeClock) -> None:
    view = await touch_user(db, WANG, clock.now())
    assert view.first_name == "王芳"
    assert view.started is False
    assert view.locale is None


async def test_private_message_marks_started_and_clears_a_block(
    db: Database, clock: FakeClock
) -> None:
    await touch_user(db, WANG, clock.now(), started=True)
    await set_private_chat_status(db, WANG, clock.now(), blocked=True)
    blocked = await touch_user(db, WANG, clock.now())
    assert blocked.blocked is True
    again = await touch_user(db, WANG, clock.advance(minutes=1), started=True)
    assert again.started is True
    assert again.blocked is False


async def test_changed_names_are_remembered(db: Database, clock: FakeClock) -> None:
    await touch_user(db, WANG, clock.now())
    renamed = Person(id=WANG.id, first_name="王芳芳", last_name="<b>", language_code="en")
    view = await touch_user(db, renamed, clock.now())
    assert (view.first_name, view.last_name, view.language_code) == ("王芳芳", "<b>", "en")


async def test_huge_names_are_clipped_not_rejected(db: Database, clock: FakeClock) -> None:
    view = await touch_user(db, Person(id=9, first_name="芳" * 1000), clock.now())
    assert len(view.first_name) == 256


async def test_concurrent_first_contacts_do_not_collide(db: Database, clock: FakeClock) -> None:
    views = await asyncio.gather(*(touch_user(db, WANG, clock.now()) for _ in range(5)))
    assert {v.id for v in views} == {WANG.id}


async def test_language_choice_is_remembered(db: Database, clock: FakeClock) -> None:
    await touch_user(db, WANG, clock.now())
    assert await set_locale(db, WANG.id, "en") is True
    assert (await touch_user(db, WANG, clock.now())).locale == "en"
    assert await set_locale(db, WANG.id, "fr") is False
    assert await set_locale(db, 404, "en") is False


async def test_bot_added_then_kicked(db: Database, clock: FakeClock) -> None:
    added = await record_bot_status(
        db,
        chat_id=-100,
        chat_type="group",
        title="一支部",
        is_forum=False,
        bot_status="member",
        now=clock.now(),
    )
    assert added.active
    kicked = await record_bot_status(
        db,
        chat_id=-100,
        chat_type="group",
        title="一支部",
        is_forum=False,
        bot_status="kicked",
        now=clock.now(),
    )
    assert not kicked.active


async def test_migration_moves_the_chat_and_is_idempotent(db: Database, clock: FakeClock) -> None:
    await record_bot_status(
        db,
        chat_id=-100,
        chat_type="group",
        title="一支部",
        is_forum=False,
        bot_status="administrator",
        now=clock.now(),
    )
    for _ in range(2):  # Telegram reports it in both chats
        new = await migrate_chat(
            db, old_id=-100, new_id=-1009999999999, title="一支部", now=clock.now()
        )
    assert new.type == "supergroup"
    assert new.bot_status == "administrator"
    assert new.active
    old = await get_chat(db, -100)
    assert old is not None
    assert old.migrated_to == -1009999999999
    assert not old.active


async def test_the_profile_says_whether_they_hold_an_office_that_day(
    db: Database, clock: FakeClock
) -> None:
    day = clock.now().date()
    committee = await org(db, clock, "综合党委", Level.COMMITTEE, None)
    branch = await org(db, clock, "甲支部", Level.BRANCH, committee)
    # Not asked for: unknown. An office held by user id counts, also when the row is rewritten.
    assert (await touch_user(db, WANG, clock.now())).holds_office is None
    zhao = Person(id=5_000_000_002, first_name="赵")
    await touch_user(db, zhao, clock.now())
    await office(db, clock, branch, Role.SECRETARY, user_id=zhao.id)
    assert (await touch_user(db, zhao, clock.now(), today=day)).holds_office is True
    renamed = Person(id=zhao.id, first_name="赵书记")
    assert (await touch_user(db, renamed, clock.now(), today=day)).holds_office is True
    assert (await touch_user(db, WANG, clock.now(), today=day)).holds_office is False
    # Through their roster entry, and only while the office runs; a group read says it too.
    _, member_id = await linked_member(db, clock, branch, 5_000_000_003, "钱")
    await office(db, clock, branch, Role.ORGANIZATION, member_id=member_id,
                 end_on=day + timedelta(days=1))  # fmt: skip
    qian = Person(id=5_000_000_003, first_name="钱")
    assert (await touch_user(db, qian, clock.now(), today=day, group_id=-100_777)).holds_office
    later = day + timedelta(days=2)
    assert (await touch_user(db, qian, clock.now(), today=later)).holds_office is False
