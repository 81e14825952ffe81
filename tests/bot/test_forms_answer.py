"""Forms delivered and answered end to end, through the emulator: cards in the groups with
their live count, private copies, answering one question per message, the review, submit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from domain.forms import ROSTER_PHONE, FormKind, LatePolicy, QType, Question, ShowIf
from domain.orgs import Kind, Level, Role, Stage, Status
from scheduler.forms import refresh_cards
from services.authz import Actor
from services.errors import ServiceError
from services.forms import FormSpec, publish_form
from services.forms_admin import close_form
from services.groups import bind_chat
from services.notices import Audience
from services.orgs import create_org
from services.orgs_roles import grant_role
from services.users import Person, touch_user
from storage.db import Database
from storage.models import (
    AuditEntry,
    FormAnonymousAnswer,
    FormResponse,
    FormResponseVersion,
    Member,
)
from tests.bot.conftest import BotUnderTest, bot_config, delivered, start_bot, stop_bot
from tests.bot.test_notices import say, tap
from tests.conftest import FakeClock
from tests.emulator import Emulator, EmuUser
from tests.emulator.model import EmuChat
from ui.forms import FormOpen
from ui.forms_answer import REVIEW, FormAnswer

SUPER = Actor(user_id=0, superadmin=True)
RIGHTS = {"can_restrict_members", "can_delete_messages", "can_pin_messages", "can_invite_users"}

QUESTIONS = (
    Question(QType.YES_NO, "本月是否开展主题党日"),
    Question(QType.INTEGER, "参加人数", unit="人", low="0", high="500", show_if=ShowIf(0, (1,))),
    Question(QType.SINGLE, "活动形式", choices=("学习", "志愿服务", "参观")),
    Question(QType.PHONE, "联系电话", roster=ROSTER_PHONE),
    Question(QType.MEMBERS, "哪些同志参加", required=False),
    Question(QType.LONG, "心得", required=False),
)


@dataclass
class World:
    committee: int
    branches: dict[str, int]
    groups: dict[str, EmuChat]
    sender: EmuUser
    people: dict[str, EmuUser]
    members: dict[str, int]


async def _member(
    db: Database, clock: FakeClock, org_id: int, name: str, user: EmuUser | None, *,
    started: bool = True, phone: str | None = None,
) -> int:  # fmt: skip
    if user is not None:
        await touch_user(db, Person(id=user.id, first_name=user.first_name), clock.now(),
                         started=started)  # fmt: skip
    async with db.transaction() as s:
        row = Member(org_id=org_id, user_id=user.id if user else None, name=name,
                     stage=Stage.FULL, status=Status.ACTIVE, source="admin", phone=phone,
                     created_at=clock.now(), updated_at=clock.now())  # fmt: skip
        s.add(row)
        await s.flush()
        return row.id


async def make_world(emu: Emulator, bot: BotUnderTest, clock: FakeClock) -> World:
    db, now, today = bot.deps.db, clock.now(), clock.now().date()
    sender = emu.user("组织部", language_code="zh-hans")
    await touch_user(db, Person(id=sender.id, first_name="组织部"), now, started=True)
    committee = await create_org(db, SUPER, name="两新工委", level=Level.COMMITTEE,
                                 kind=Kind.TWO_NEW, parent_id=None, now=now,
                                 today=today)  # fmt: skip
    await grant_role(db, SUPER, committee.id, Role.COMMITTEE_ADMIN, user_id=sender.id,
                     now=now, today=today)  # fmt: skip
    branches: dict[str, int] = {}
    for name in ("第一支部", "第二支部"):
        org = await create_org(db, SUPER, name=name, level=Level.BRANCH, kind=Kind.STANDARD,
                               parent_id=committee.id, now=now, today=today)  # fmt: skip
        branches[name] = org.id
    people = {
        "wang": emu.user("芳", language_code="zh-hans"),
        "zhang": emu.user("伟", language_code="zh-hans"),
        "li": emu.user("娜", language_code="zh-hans"),
    }
    members = {
        "wang": await _member(
            db, clock, branches["第一支部"], "王芳", people["wang"], phone="13812345678"
        ),
        "zhang": await _member(
            db, clock, branches["第一支部"], "张伟", people["zhang"], started=False
        ),
        "li": await _member(db, clock, branches["第二支部"], "李娜", people["li"]),
    }
    for key in ("wang", "li"):
        await people[key].start()
    await grant_role(db, SUPER, branches["第二支部"], Role.SECRETARY,
                     member_id=members["li"], now=now, today=today)  # fmt: skip
    groups: dict[str, EmuChat] = {}
    group = emu.group("第一支部群", members=[sender, people["wang"], people["zhang"]],
                      admins=[sender], supergroup=True)  # fmt: skip
    await group.add_bot(by=sender, admin=True, rights=RIGHTS)
    await bind_chat(db, SUPER, group.id, branches["第一支部"], make_main=True, now=now,
                    today=today)  # fmt: skip
    groups["第一支部"] = group
    await bot.settle()
    return World(committee.id, branches, groups, sender, people, members)


def spec(world: World, clock: FakeClock, **kw: object) -> FormSpec:
    values: dict[str, object] = {
        "org_id": world.committee,
        "kind": FormKind.MEMBER,
        "title": "十二月主题党日",
        "intro": "请各位同志如实填写。",
        "questions": QUESTIONS,
        "audience": Audience((world.committee,), private_copies=True),
        "deadline": clock.now() + timedelta(days=3),
    }
    values.update(kw)
    return FormSpec(**values)  # type: ignore[arg-type]


def alert(user: EmuUser) -> str:
    answer = user.last_alert()
    assert answer is not None, "the press was not answered"
    return answer.text or ""


async def test_member_form_delivered_answered_and_counted(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    db = bot.deps.db
    published = await publish_form(db, Actor(world.sender.id), spec(world, clock),
                                   now=clock.now(), today=clock.now().date())  # fmt: skip
    assert published.delivered.groups == 1
    assert published.delivered.private_copies == 2  # wang and li; zhang never started the bot
    assert published.delivered.branches_without_group == ("第二支部",)
    await delivered(bot)
    card = emu.last_sent(world.groups["第一支部"])
    assert "十二月主题党日" in card.content
    assert "已填 0/2" in card.content
    assert f"start=f_{published.cycle.id}_{world.branches['第一支部']}" in str(card.reply_markup)

    wang = world.people["wang"]
    copy = emu.last_sent(wang)
    assert "请填写" in copy.content
    assert "共 6 题" in copy.content
    first = await tap(bot, wang, copy, "✏️ 填写")
    assert "请各位同志如实填写" in first.content
    assert "第 1/" in first.content
    second = await tap(bot, wang, first, "是")
    assert "参加人数" in second.content
    refused = await say(bot, wang, "很多")
    assert "数字" in refused.content  # the reason, and the question stays
    refused = await say(bot, wang, "900")
    assert "500" in refused.content
    third = await say(bot, wang, "35")
    assert "活动形式" in third.content
    fourth = await tap(bot, wang, third, "○ 志愿服务")
    # The phone comes from the roster: confirmed with one tap.
    assert "联系电话" in fourth.content
    assert "13812345678" in fourth.content
    fifth = await tap(bot, wang, fourth, "✔️ 确认，下一题")
    buttons = str(fifth.reply_markup)
    assert "哪些同志参加" in fifth.content
    assert "王芳" in buttons
    assert "张伟" in buttons
    assert "李娜" not in buttons  # another branch's roster is not offered
    picked = await tap(bot, wang, fifth, "▫️ 张伟")
    assert "✅ 张伟" in str(picked.reply_markup)
    sixth = await tap(bot, wang, picked, "✅ 完成")
    assert "心得" in sixth.content
    review = await tap(bot, wang, sixth, "跳过")
    assert "请核对" in review.content
    assert "志愿服务" in review.content
    assert "35 人" in review.content
    assert "张伟" in review.content
    done = await tap(bot, wang, review, "📤 提交")
    assert "已提交" in done.content
    # The old 提交 again: stale, nothing taken twice.
    await wang.press_raw(review, FormAnswer(REVIEW, "submit", 0).pack())
    await bot.settle()
    assert "过期" in alert(wang) or "失效" in alert(wang)

    async with db.read() as s:
        responses = (await s.scalars(select(FormResponse))).all()
    assert len(responses) == 1
    assert responses[0].answers == {"0": True, "1": 35, "2": 1, "3": "13812345678",
                                    "4": [world.members["zhang"]]}  # fmt: skip

    assert await refresh_cards(bot.deps) == 1
    await delivered(bot)
    assert "已填 1/2" in emu.last_sent(world.groups["第一支部"]).content
    assert await refresh_cards(bot.deps) == 0  # nothing new: no edit


async def test_changing_an_answer_keeps_versions_and_late_is_marked(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    db = bot.deps.db
    questions = (Question(QType.SHORT, "本月学习篇目"),)
    published = await publish_form(
        db, Actor(world.sender.id), spec(world, clock, questions=questions),
        now=clock.now(), today=clock.now().date(),
    )  # fmt: skip
    await delivered(bot)
    wang = world.people["wang"]
    link = f"/start f_{published.cycle.id}_{world.branches['第一支部']}"
    first = await say(bot, wang, link)
    review = await say(bot, wang, "《党章》第一章")
    await tap(bot, wang, review, "📤 提交")
    clock.advance(days=4)  # past the deadline; late answers are accepted
    again = await say(bot, wang, link)
    assert "已提交过" in again.content
    assert "迟报" in again.content
    review = await say(bot, wang, "《党章》第二章")
    done = await tap(bot, wang, review, "📤 提交")
    assert "第 2 版" in done.content
    assert "迟报" in done.content
    async with db.read() as s:
        row = await s.scalar(select(FormResponse))
        versions = await s.scalar(select(func.count()).select_from(FormResponseVersion))
    assert row is not None
    assert row.late
    assert row.version == 2
    assert row.answers == {"0": "《党章》第二章"}
    assert versions == 2
    assert first is not None


async def test_late_refused_and_not_yours(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    db = bot.deps.db
    questions = (Question(QType.SHORT, "意见建议"),)
    only_first = Audience((world.branches["第一支部"],), private_copies=True)
    published = await publish_form(
        db, Actor(world.sender.id),
        spec(world, clock, questions=questions, audience=only_first,
             late_policy=LatePolicy.REFUSE),
        now=clock.now(), today=clock.now().date(),
    )  # fmt: skip
    await delivered(bot)
    # Li is in another branch: the link is not hers to answer.
    li_reply = await say(bot, world.people["li"], f"/start f_{published.cycle.id}_0")
    assert "不需要您填写" in li_reply.content
    # A forged link is refused politely.
    forged = await say(bot, world.people["li"], "/start f_abc_1")
    assert "过期" in forged.content or "失效" in forged.content
    clock.advance(days=4)
    wang = world.people["wang"]
    copy = emu.last_sent(wang)
    await wang.press(copy, "✏️ 填写")
    await bot.settle()
    assert "截止" in alert(wang)


async def test_bad_input_and_forged_presses(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    db = bot.deps.db
    questions = (Question(QType.SHORT, "工作单位"), Question(QType.LONG, "心得体会"))
    published = await publish_form(
        db, Actor(world.sender.id), spec(world, clock, questions=questions),
        now=clock.now(), today=clock.now().date(),
    )  # fmt: skip
    await delivered(bot)
    wang = world.people["wang"]
    first = await say(bot, wang, f"/start f_{published.cycle.id}_0")
    refused = await say(bot, wang, "11010519491231002X")
    assert "身份证" in refused.content
    second = await say(bot, wang, "  Ｚhibu\u200b 科技\u202e有限公司 ")
    assert "心得体会" in second.content
    too_long = await say(bot, wang, "学" * 4096)
    assert "太长" in too_long.content or "字" in too_long.content
    # A press of an earlier question's button, and bytes nobody sent: both refused as stale.
    await wang.press_raw(first, FormAnswer(0, "keep", 0).pack())
    await bot.settle()
    assert "过期" in alert(wang) or "失效" in alert(wang)
    await wang.press_raw(second, "fa:1:drop;table:0")
    await bot.settle()
    assert "过期" in alert(wang) or "失效" in alert(wang)
    # A picked member id that is not on the roster (forged): refused.
    await wang.press_raw(second, FormAnswer(1, "person", 999999).pack())
    await bot.settle()
    assert "过期" in alert(wang) or "失效" in alert(wang)
    # Someone opening a cycle that does not exist.
    await wang.press_raw(second, FormOpen(424242, 0).pack())
    await bot.settle()
    assert alert(wang)
    assert not bot.take_errors()


async def test_branch_form_nothing_to_report_and_restart(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock, db: Database
) -> None:
    world = await make_world(emu, bot, clock)
    questions = (Question(QType.INTEGER, "本月发展党员人数"), Question(QType.LONG, "工作亮点"))
    published = await publish_form(
        db, Actor(world.sender.id),
        spec(world, clock, kind=FormKind.BRANCH, questions=questions,
             audience=Audience((world.branches["第二支部"],))),
        now=clock.now(), today=clock.now().date(),
    )  # fmt: skip
    assert published.delivered.private_copies == 1  # the secretary of 第二支部
    await delivered(bot)
    li = world.people["li"]
    copy = emu.last_sent(li)
    assert "第二支部" in copy.content
    first = await tap(bot, li, copy, "✏️ 填写")
    assert "本期无情况" in str(first.reply_markup)
    await say(bot, li, "2")  # the half-filled answer is in the database
    # A restart in the middle: the answer so far survives.
    await stop_bot(bot)
    restarted = await start_bot(bot_config(emu, db.url), bot.deps, emu)
    try:
        current = emu.last_sent(li)
        assert "工作亮点" in current.content
        review = await tap(restarted, li, current, "本期无情况")
        assert "本期无情况" in review.content
        done = await tap(restarted, li, review, "📤 提交")
        assert "已提交" in done.content
    finally:
        await stop_bot(restarted)
    async with db.read() as s:
        row = await s.scalar(select(FormResponse))
    assert row is not None
    assert row.nothing_to_report
    assert row.answers == {}
    assert row.respondent == f"b:{world.branches['第二支部']}"
    # Wang is no officer: a branch form is not hers.
    assert world.people["wang"].id != li.id


async def test_anonymous_answers_cannot_be_joined_and_attachments_are_taken(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    db = bot.deps.db
    questions = (
        Question(QType.SINGLE, "对支部工作是否满意", choices=("满意", "基本满意", "不满意")),
        Question(QType.ATTACHMENT, "活动照片", required=False),
    )
    published = await publish_form(
        db, Actor(world.sender.id),
        spec(world, clock, questions=questions, anonymous=True, title="民主评议"),
        now=clock.now(), today=clock.now().date(),
    )  # fmt: skip
    await delivered(bot)
    wang = world.people["wang"]
    first = await tap(bot, wang, emu.last_sent(wang), "✏️ 填写")
    photo_question = await tap(bot, wang, first, "○ 基本满意")
    assert "活动照片" in photo_question.content
    text_instead = await say(bot, wang, "照片稍后补")
    assert "按钮" in text_instead.content or "照片" in text_instead.content
    await wang.send_photo(b"\xff\xd8\xff jpeg bytes")
    await bot.settle()
    review = emu.last_sent(wang)
    assert "🖼 照片" in review.content
    done = await tap(bot, wang, review, "📤 提交")
    assert "已提交" in done.content
    async with db.read() as s:
        response = await s.scalar(select(FormResponse))
        stored = (await s.scalars(select(FormAnonymousAnswer))).all()
    assert response is not None
    assert response.answers is None  # who answered is known, what they answered is not here
    assert len(stored) == 1
    assert stored[0].answers["0"] == 1
    assert set(stored[0].__table__.columns.keys()) == {
        "id",
        "cycle_id",
        "org_id",
        "answers",
        "submitted_on",
    }
    # Changing an anonymous answer would need the link that is not kept.
    again = await say(bot, wang, f"/start f_{published.cycle.id}_0")
    assert "匿名" in again.content


async def test_closing_a_form_stops_answers_and_updates_the_cards(
    emu: Emulator, bot: BotUnderTest, clock: FakeClock
) -> None:
    world = await make_world(emu, bot, clock)
    db = bot.deps.db
    questions = (Question(QType.SHORT, "意见建议"),)
    published = await publish_form(
        db, Actor(world.sender.id), spec(world, clock, questions=questions),
        now=clock.now(), today=clock.now().date(),
    )  # fmt: skip
    await delivered(bot)
    wang = world.people["wang"]
    with pytest.raises(ServiceError) as denied:
        await close_form(db, Actor(wang.id), published.form.id, now=clock.now(),
                         today=clock.now().date())  # fmt: skip
    assert denied.value.code == "auth.denied"
    closed = await close_form(db, Actor(world.sender.id), published.form.id, now=clock.now(),
                              today=clock.now().date())  # fmt: skip
    assert closed.cards == 1
    with pytest.raises(ServiceError) as twice:
        await close_form(db, Actor(world.sender.id), published.form.id, now=clock.now(),
                         today=clock.now().date())  # fmt: skip
    assert twice.value.code == "stale"
    assert await refresh_cards(bot.deps) == 1
    await delivered(bot)
    card = emu.last_sent(world.groups["第一支部"])
    assert "已停止收集" in card.content
    assert not card.reply_markup
    await wang.press(emu.last_sent(wang), "✏️ 填写")
    await bot.settle()
    assert "停止收集" in alert(wang)
    async with db.read() as s:
        audited = await s.scalar(select(AuditEntry).where(AuditEntry.action == "form.close"))
    assert audited is not None
