"""/import through the emulator: template, upload, preview, confirm, and the refusals."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date

import openpyxl
from sqlalchemy import func, select

from bot.app import build_deps
from domain.members_roster import TEMPLATE_HEADERS, Column
from domain.orgs import Kind, Level, Role, Status
from services import orgs
from services.authz import Actor
from services.users import Person, touch_user
from storage.db import Database
from storage.models import Member, RoleAssignment
from tests.bot.conftest import BotUnderTest, bot_config, start_bot, stop_bot
from tests.conftest import FakeClock
from tests.emulator import Emulator

SUPER = Actor(user_id=0, superadmin=True)


async def make_branches(db: Database, clock: FakeClock, *names: str) -> list[int]:
    now, day = clock.now(), clock.now().date()
    committee = await orgs.create_org(
        db, SUPER, name="高新区综合党委", level=Level.COMMITTEE, kind=Kind.COMPREHENSIVE,
        parent_id=None, now=now, today=day,
    )  # fmt: skip
    ids = []
    for name in names:
        view = await orgs.create_org(
            db, SUPER, name=name, level=Level.BRANCH, kind=Kind.STANDARD,
            parent_id=committee.id, now=now, today=day,
        )  # fmt: skip
        ids.append(view.id)
    return ids


async def make_admin(
    db: Database, clock: FakeClock, org_id: int, user_id: int, role: Role = Role.SECRETARY
) -> None:
    """Put the Telegram user on the branch's roster with an office."""
    await touch_user(db, Person(id=user_id, first_name="李书记"), clock.now())
    async with db.transaction() as s:
        member = Member(
            org_id=org_id, user_id=user_id, name="李书记", phone=None, stage="full",
            status=Status.ACTIVE, source="admin", created_at=clock.now(), updated_at=clock.now(),
        )  # fmt: skip
        s.add(member)
        await s.flush()
        s.add(
            RoleAssignment(
                org_id=org_id,
                role=role,
                member_id=member.id,
                start_on=date(2020, 1, 1),
                created_at=clock.now(),
            )
        )


def filled(template: bytes, rows: Sequence[Sequence[object]]) -> bytes:
    """The template as a secretary fills it in: the example row left in, people below."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def roster_names(db: Database, org_id: int) -> list[str]:
    async with db.read() as s:
        names = await s.scalars(
            select(Member.name).where(Member.org_id == org_id, Member.source == "import")
        )
        return sorted(names)


PEOPLE: list[list[object]] = [
    ["王芳", "13800000001", "正式党员", "组织委员", "第一党小组", "甲公司"],
    ["李明", 13800000002, "预备党员", None, "第一党小组"],
    ["<b>张&伟</b>", None, "群众"],
]


async def test_admin_imports_a_roster_from_the_template(
    emu: Emulator, bot: BotUnderTest, db: Database, clock: FakeClock
) -> None:
    [branch] = await make_branches(db, clock, "甲公司党支部")
    alice = emu.user("李书记", language_code="zh-hans")
    await make_admin(db, clock, branch, alice.id)
    await alice.start()
    await alice.send("/import")
    await bot.settle()
    template = emu.last_sent(alice)
    assert template.document is not None
    assert template.document.file_name == "党员名册模板.xlsx"
    assert "甲公司党支部" in template.content
    assert "/cancel" in template.content
    assert template.document.content is not None
    header = next(openpyxl.load_workbook(io.BytesIO(template.document.content)).worksheets[0].rows)
    assert [c.value for c in header] == [TEMPLATE_HEADERS["zh_CN"][c] for c in Column]

    # A first try with mistakes: the answer names each row and what is wrong with it.
    await alice.send_document("名册.xlsx", filled(template.document.content, PEOPLE))
    await bot.settle()
    preview = emu.last_sent(alice)
    assert "新增 2 · 更新 0 · 无变化 0 · 有误 1" in preview.content
    assert "第 5 行：姓名只能有汉字" in preview.content
    assert "<b>张&伟</b>" not in (preview.html or "")  # user text escaped, never markup
    assert preview.buttons == []
    assert await roster_names(db, branch) == []

    fixed: list[list[object]] = [*PEOPLE[:2], ["张伟", None, "群众"]]
    await alice.send_document("名册.xlsx", filled(template.document.content, fixed))
    await bot.settle()
    preview = emu.last_sent(alice)
    assert "新增 3 · 更新 0 · 无变化 0 · 有误 0" in preview.content
    assert "将新建党小组：第一党小组" in preview.content
    assert preview.button_texts() == ["确认导入", "取消"]
    await alice.press(preview, "确认导入")
    await bot.settle()
    assert "新增 3 人，更新 0 人" in emu.last_sent(alice).content
    assert await roster_names(db, branch) == ["张伟", "李明", "王芳"]

    # The same file again: nothing to do, nothing written.
    await alice.send("/import")
    await bot.settle()
    await alice.send_document("名册.xlsx", filled(template.document.content, fixed))
    await bot.settle()
    assert "与名册一致" in emu.last_sent(alice).content
    assert emu.last_sent(alice).buttons == []


async def test_confirming_after_a_restart_still_works(
    emu: Emulator, bot: BotUnderTest, db: Database, clock: FakeClock
) -> None:
    [branch] = await make_branches(db, clock, "甲公司党支部")
    alice = emu.user("Alice", language_code="en")
    await make_admin(db, clock, branch, alice.id)
    await alice.start()
    await alice.send("/import")
    await bot.settle()
    template = emu.last_sent(alice)
    assert template.document is not None
    assert template.document.file_name == "roster-template.xlsx"
    assert template.document.content is not None
    rows: list[list[object]] = [
        ["Li Lei", "13800000003", "full", "propaganda"],
        ["Han Meimei", None, "applicant"],
    ]
    await alice.send_document("roster.xlsx", filled(template.document.content, rows))
    await bot.settle()
    preview = emu.last_sent(alice)
    assert "new 2 · updated 0 · unchanged 0 · with errors 0" in preview.content

    await stop_bot(bot)
    cfg = bot_config(emu, db.url)
    again = await start_bot(cfg, build_deps(cfg, clock=clock, db=db), emu)
    try:
        await alice.press(preview, "Import")
        await again.settle()
        assert "2 added, 0 updated" in emu.last_sent(alice).content
    finally:
        await stop_bot(again)
    assert again.errors == []
    assert await roster_names(db, branch) == ["Han Meimei", "Li Lei"]


async def test_non_admins_get_a_clear_no(
    emu: Emulator, bot: BotUnderTest, db: Database, clock: FakeClock
) -> None:
    [branch] = await make_branches(db, clock, "甲公司党支部")
    bob = emu.user("王芳")
    await make_admin(db, clock, branch, bob.id, Role.PROPAGANDA)
    await bob.start()
    await bob.send("/import")
    await bot.settle()
    assert "只有支部书记" in emu.last_sent(bob).content
    await bob.send_document("名册.csv", "姓名,阶段\n王芳,正式党员\n".encode())
    await bot.settle()
    assert "请先发送 /import" in emu.last_sent(bob).content
    group = emu.group("第一支部", members=[bob], admins=[bob])
    await group.add_bot(by=bob)
    await bob.send("/import", chat=group)
    await bot.settle()
    assert "请私聊我" in emu.last_sent(group).content


async def test_a_forged_or_stale_confirm_changes_nothing(
    emu: Emulator, bot: BotUnderTest, db: Database, clock: FakeClock
) -> None:
    [branch] = await make_branches(db, clock, "甲公司党支部")
    alice, mallory = emu.user("李书记"), emu.user("王芳")
    await make_admin(db, clock, branch, alice.id)
    await alice.start()
    await mallory.start()
    await alice.send("/import")
    await bot.settle()
    template = emu.last_sent(alice)
    assert template.document is not None
    assert template.document.content is not None
    await alice.send_document("名册.xlsx", filled(template.document.content, PEOPLE[:2]))
    await bot.settle()
    preview = emu.last_sent(alice)
    confirm = preview.button("确认导入").callback_data
    assert confirm is not None
    # Another user replays Alice's button data in their own chat.
    await mallory.press_raw(emu.last_sent(mallory), data=confirm)
    await bot.settle()
    alert = mallory.last_alert()
    assert alert is not None
    assert alert.text == "这个按钮已失效，请重新操作。"
    for forged in ("imp:ok:", "imp:launch:1", "imp:branch:abc", "imp:ok:x:y"):
        await alice.press_raw(preview, data=forged)
        await bot.settle()
        alert = alice.last_alert()
        assert alert is not None
        assert alert.show_alert
    assert await roster_names(db, branch) == []
    # Cancel, then the old confirm button no longer works either.
    await alice.press(preview, "取消")
    await bot.settle()
    assert "已取消名册导入" in emu.last_sent(alice).content
    await alice.press_raw(emu.last_sent(alice), data=confirm)
    await bot.settle()
    alert = alice.last_alert()
    assert alert is not None
    assert alert.text == "这个按钮已失效，请重新操作。"
    assert await roster_names(db, branch) == []


async def test_bad_files_get_a_clear_answer(
    emu: Emulator, bot: BotUnderTest, db: Database, clock: FakeClock
) -> None:
    [branch] = await make_branches(db, clock, "甲公司党支部")
    alice = emu.user("李书记")
    await make_admin(db, clock, branch, alice.id)
    await alice.start()
    await alice.send("/import")
    await bot.settle()
    answers = {
        "旧.xls": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "旧版电子表格"),
        "坏.xlsx": (b"PK\x03\x04broken", "无法打开"),
        "说明.pdf": (b"%PDF-1.4", "只能导入电子表格文件"),
        "缺列.csv": ("姓名,手机号\n王芳,13800000001\n".encode("gbk"), "缺少“阶段”列"),
        "大.csv": (b"x" * (2 * 1024 * 1024 + 10), "文件太大了"),
    }
    for filename, (content, expected) in answers.items():
        await alice.send_document(filename, content)
        await bot.settle()
        assert expected in emu.last_sent(alice).content, filename
    # Still waiting for a good file: a GBK CSV works.
    text = "姓名,手机号,阶段\n王芳,13800000001,正式党员\n"
    await alice.send_document("名册.csv", text.encode("gbk"))
    await bot.settle()
    assert "新增 1 · 更新 0" in emu.last_sent(alice).content


async def test_typed_text_and_cancel_while_waiting_for_the_file(
    emu: Emulator, bot: BotUnderTest, db: Database, clock: FakeClock
) -> None:
    [branch] = await make_branches(db, clock, "甲公司党支部")
    alice = emu.user("李书记")
    await make_admin(db, clock, branch, alice.id)
    await alice.start()
    await alice.send("/import")
    await alice.send("王芳 13800000001")
    await bot.settle()
    assert "作为文件发送" in emu.last_sent(alice).content
    await alice.send("/cancel")
    await bot.settle()
    await alice.send_document("名册.csv", "姓名,阶段\n王芳,正式党员\n".encode())
    await bot.settle()
    assert "请先发送 /import" in emu.last_sent(alice).content


async def test_admins_of_many_branches_pick_one_page_by_page(
    emu: Emulator, db: Database, clock: FakeClock
) -> None:
    names = [f"第{i:02d}党支部" for i in range(1, 11)]
    ids = await make_branches(db, clock, *names)
    root = emu.user("管理员")
    cfg = bot_config(emu, db.url, superadmins=[root.id])
    harness = await start_bot(cfg, build_deps(cfg, clock=clock, db=db), emu)
    try:
        await root.start()
        await root.send("/import")
        await harness.settle()
        picker = emu.last_sent(root)
        assert picker.button_texts() == [*names[:8], "下一页"]
        await root.press(picker, "下一页")
        await harness.settle()
        assert picker.button_texts() == [*names[8:], "上一页"]
        await root.press(picker, "第10党支部")
        await harness.settle()
        template = emu.last_sent(root)
        assert template.document is not None
        assert "第10党支部" in template.content
        await root.send_document("名册.csv", "姓名,阶段\n王芳,正式党员\n".encode())
        await harness.settle()
        await root.press(emu.last_sent(root), "确认导入")
        await harness.settle()
    finally:
        await stop_bot(harness)
    assert harness.errors == []
    assert await roster_names(db, ids[-1]) == ["王芳"]
    async with db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Member)) == 1


async def test_many_errors_are_summarized_within_telegram_limits(
    emu: Emulator, bot: BotUnderTest, db: Database, clock: FakeClock
) -> None:
    [branch] = await make_branches(db, clock, "甲公司党支部")
    alice = emu.user("Alice", language_code="en")
    await make_admin(db, clock, branch, alice.id)
    await alice.start()
    await alice.send("/import")
    # 300 rows, each with a long unknown role and an odd stage; 300 new, long unit names.
    lines = ["name,stage,roles,unit"]
    lines += [f"Wang Fang {chr(65 + i % 26)}{chr(65 + i // 26)},<x&>,{'z' * 60},{'U' * 90}{i}"
              for i in range(300)]  # fmt: skip
    await alice.send_document("roster.csv", "\n".join(lines).encode())
    await bot.settle()
    reply = emu.last_sent(alice)
    assert "with errors 300" in reply.content
    assert "Row 2: unknown stage “<x&>”" in reply.content  # shown literally, escaped once
    assert "… and 580 more errors not listed." in reply.content
    assert len(reply.content) < 4096
