"""How form reminders look: the private reminder with its 填写 button, the group's mentions,
the overseers' list of branches behind, and the answer to a 催报."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from domain.forms import FormKind
from services.forms_chase import Chased, ChasePlan, Outgoing, Person
from services.outbox import ButtonRows
from ui.forms import FormOpen
from ui.i18n import Catalog, Html
from ui.render import datetime_text, split_message

# Telegram notifies at most 50 mentioned people per message; stay below it.
MENTIONS_PER_MESSAGE = 40
ONCE = "once"  # a one-off form's cycle key: no period to name


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def left_text(
    catalog: Catalog, locale: str, deadline: datetime, now: datetime, tz: ZoneInfo
) -> str:
    """ "还有 3 天" / "明天截止" / "今天截止" / "已过截止时间", by local dates."""
    if now > deadline:
        return catalog.plain(locale, "form.remind.left_past")
    days = (deadline.astimezone(tz).date() - now.astimezone(tz).date()).days
    if days <= 0:
        return catalog.plain(locale, "form.remind.left_today")
    if days == 1:
        return catalog.plain(locale, "form.remind.left_tomorrow")
    return catalog.plain(locale, "form.remind.left_days", days=days)


def form_title(catalog: Catalog, locale: str, plan: ChasePlan) -> str:
    """The form's title, with the period of a repeating form's cycle."""
    if plan.cycle_key == ONCE:
        return plan.title
    return catalog.plain(locale, "form.remind.title_period", title=plan.title,
                         period=plan.cycle_key)  # fmt: skip


class _Words:
    """The parts of a reminder that are the same for every reader of one language."""

    def __init__(self, catalog: Catalog, plan: ChasePlan, now: datetime) -> None:
        self.catalog = catalog
        self.plan = plan
        self.now = now
        self.tz = _zone(plan.timezone)
        self._cache: dict[str, tuple[str, str, str]] = {}

    def __call__(self, locale: str) -> tuple[str, str, str]:
        """(title, deadline, time left) in this language."""
        if locale not in self._cache:
            c, plan = self.catalog, self.plan
            self._cache[locale] = (
                form_title(c, locale, plan),
                datetime_text(c, locale, plan.deadline, self.tz, self.now),
                left_text(c, locale, plan.deadline, self.now, self.tz),
            )
        return self._cache[locale]


def _fill_button(catalog: Catalog, locale: str, plan: ChasePlan, branch_id: int) -> ButtonRows:
    target = branch_id if plan.kind is FormKind.BRANCH else 0
    return [[(catalog.plain(locale, "form.remind.fill"),
              "cb:" + FormOpen(plan.cycle_id, target).pack())]]  # fmt: skip


def reminder_messages(
    catalog: Catalog, plan: ChasePlan, *, now: datetime, group_locale: str
) -> list[Outgoing]:
    """The private reminders (in each reader's language, with 填写) and, per branch, the
    group messages mentioning those the bot cannot write to (in the group's language)."""
    words = _Words(catalog, plan, now)
    branch_form = plan.kind is FormKind.BRANCH
    key = "form.remind.private_branch" if branch_form else "form.remind.private"
    buttons: dict[tuple[str, int], ButtonRows] = {}
    messages: list[Outgoing] = []
    mentioned: dict[int, list[Person]] = defaultdict(list)
    for person in plan.people:
        if person.private:
            assert person.user_id is not None
            locale = person.locale
            title, deadline, left = words(locale)
            html = catalog.t(locale, key, name=person.name, title=title, deadline=deadline,
                             left=left, branch=plan.branches.get(person.org_id, ""))  # fmt: skip
            rows = buttons.get((locale, person.org_id))
            if rows is None:
                rows = buttons[locale, person.org_id] = _fill_button(
                    catalog, locale, plan, person.org_id
                )
            messages.append(Outgoing(person.user_id, html, rows, org_id=person.org_id))
        elif person.mentionable and person.org_id in plan.groups:
            mentioned[person.org_id].append(person)
    locale = group_locale
    title, deadline, left = words(locale)
    group_key = "form.remind.group_branch" if branch_form else "form.remind.group"
    for org_id, people in mentioned.items():
        group = plan.groups[org_id]
        for start in range(0, len(people), MENTIONS_PER_MESSAGE):
            mentions = " ".join(
                catalog.t(locale, "form.remind.mention", user_id=p.user_id, name=p.name)
                for p in people[start : start + MENTIONS_PER_MESSAGE]
            )
            html = catalog.t(locale, group_key, title=title, deadline=deadline, left=left,
                             mentions=Html(mentions))  # fmt: skip
            messages.append(
                Outgoing(group.chat_id, html, org_id=org_id, is_group=True,
                         thread_id=group.thread_id, reply_to=group.reply_to)
            )  # fmt: skip
    return messages


def overseer_messages(
    catalog: Catalog, plan: ChasePlan, *, now: datetime, after_deadline: bool
) -> list[Outgoing]:
    """To the sender and the sending organization's admins: the branches behind, numbered
    (several messages when the list is long)."""
    if not plan.behind:
        return []
    words = _Words(catalog, plan, now)
    head_key = "form.remind.behind_after" if after_deadline else "form.remind.behind"
    messages: list[Outgoing] = []
    rendered: dict[str, list[str]] = {}
    for person in plan.overseers:
        locale = person.locale
        if locale not in rendered:
            title, deadline, _left = words(locale)
            lines = [catalog.t(locale, head_key, title=title, deadline=deadline,
                               count=len(plan.behind))]  # fmt: skip
            lines += [
                catalog.t(locale, "form.remind.behind_line", index=i,
                          branch=plan.branches.get(org_id, ""))
                for i, org_id in enumerate(plan.behind, start=1)
            ]  # fmt: skip
            rendered[locale] = split_message(lines)
        messages += [Outgoing(person.user_id, part) for part in rendered[locale]]
    return messages


def chased_text(catalog: Catalog, locale: str, chased: Chased) -> list[str]:
    """The answer to a 催报: how many were reminded privately and in groups, and who must be
    called (no Telegram account known, no group, or a branch with nobody to answer)."""
    if (
        not chased.private
        and not chased.mentioned
        and not chased.unreachable
        and not (chased.without_officer)
    ):
        return [catalog.t(locale, "form.chase.nobody")]
    lines = [catalog.t(locale, "form.chase.done", private=chased.private,
                       mentioned=chased.mentioned)]  # fmt: skip
    if chased.unreachable:
        lines += ["", catalog.t(locale, "form.chase.call_head", count=len(chased.unreachable))]
        lines += [
            catalog.t(locale, "form.chase.call_line", name=p.name,
                      branch=chased.branches.get(p.org_id, ""))
            for p in chased.unreachable
        ]  # fmt: skip
    if chased.without_officer:
        lines += ["", catalog.t(locale, "form.chase.no_officer_head")]
        lines += [
            catalog.t(locale, "form.chase.no_officer_line", branch=chased.branches.get(b, ""))
            for b in chased.without_officer
        ]
    return split_message(lines)
