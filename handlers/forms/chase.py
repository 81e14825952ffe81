"""催报 on a cycle's results: remind now everyone the presser may chase who has not answered,
and say how many were reached and who must be called."""

from __future__ import annotations

from handlers.common import send_private, today
from handlers.forms.common import presses
from handlers.press import Press
from services.forms_chase import chase_plan, commit_chase
from ui.deps import BotContext
from ui.forms import FormChase
from ui.forms_chase import chased_text, reminder_messages


@presses.on(FormChase)
async def chase(press: Press[FormChase], context: BotContext) -> None:
    """Queue the reminders (refused to all but the sender, the sending organization's admins
    and, for their own branch, a branch admin; and within 10 minutes of the last 催报)."""
    deps = context.deps
    settings = deps.settings
    now = deps.clock.now()
    day = today(context)
    plan = await chase_plan(
        deps.db, press.actor, press.data.cycle_id, today=day,
        default_locale=settings.default_locale, default_tz=settings.timezone.key,
    )  # fmt: skip
    messages = reminder_messages(deps.catalog, plan, now=now, group_locale=settings.default_locale)
    chased = await commit_chase(deps.db, press.actor, plan, messages, now=now, today=day)
    deps.outbox.wake()
    await press.answer("form.chase.sent")
    for part in chased_text(deps.catalog, context.locale, chased):
        await send_private(context, press.user_id, part)
