"""收到 / 已学习 pressed on a notice copy: the hot path (a city-wide notice: 100 presses/s).

One keyed read and one group-committed write (services.notices.acknowledge); the group's
counter is re-rendered later by the counter sweep (scheduler.notices), not here.
"""

from __future__ import annotations

from handlers.notices.common import presses
from handlers.press import Press
from services.notices import acknowledge
from ui.deps import BotContext
from ui.notices import Ack


@presses.on(Ack)
async def ack(press: Press[Ack], context: BotContext) -> None:
    """Recorded once; the answer says how far the presser's branch is."""
    result = await acknowledge(
        context.deps.db, press.user_id, press.data.notice_id, context.deps.clock.now()
    )
    if result.status == "ok":
        await press.answer(
            "notice.ack.ok", acked=result.branch_count, expected=result.branch_expected
        )
    elif result.status == "already":
        await press.answer("notice.ack.already")
    elif result.status == "closed":
        await press.answer("notice.ack.closed", alert=True)
    else:
        await press.answer("notice.ack.outside", alert=True)
