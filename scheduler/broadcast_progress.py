"""The admin's live progress message of a broadcast, edited as its deliveries settle.

Telegram limits edits as it limits messages, so the message is edited after every
`progress_every` settled deliveries or `progress_seconds` after the last edit, whichever
comes first, and once more when the broadcast is done. Telegram refuses an edit that
changes nothing ("message is not modified"); that is avoided, not swallowed: an edit is made
only by the sender that moved the counts shown (`Broadcast.progress_shown`) with a
compare-and-set, and the final one only by the sender that moved the broadcast to done.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import TelegramError

from handlers.broadcasts_views import progress_text
from locales.i18n import use_locale
from models import broadcasts
from models.broadcast_entities import Broadcast
from models.entities import User
from models.platform import BroadcastConfig
from models.users import locale_of

log = logging.getLogger(__name__)


class BroadcastProgress:
    """Edits progress messages for one engine (one per process)."""

    def __init__(self, bot: Bot, config: BroadcastConfig, clock: Callable[[], datetime]) -> None:
        self.bot = bot
        self.config = config
        self.clock = clock
        self._settled: dict[int, int] = defaultdict(int)  # since this process last looked
        self._looked: dict[int, datetime] = {}

    async def settled(self, broadcast_id: int) -> None:
        """One delivery of this broadcast settled (sent or given up): edit if it is time."""
        self._settled[broadcast_id] += 1
        last = self._looked.setdefault(broadcast_id, self.clock())
        interval = timedelta(seconds=self.config.progress_seconds)
        if (
            self._settled[broadcast_id] >= self.config.progress_every
            or self.clock() - last >= interval
        ):
            item = await Broadcast.get_or_none(id=broadcast_id)
            if item is not None:
                await self.update(item)

    async def refresh(self) -> None:
        """Every broadcast being sent: done if nothing is left to send, else its counts
        (called at the end of each tick, so a broadcast whose last rows settled elsewhere,
        skipped or forgotten, ends too)."""
        for item in await broadcasts.sending():
            await self.update(item)

    async def update(self, item: Broadcast) -> None:
        """Show the current counts, or the final ones when the broadcast is done."""
        self._settled[item.id] = 0
        self._looked[item.id] = self.clock()
        progress = await broadcasts.progress(item)
        if progress.pending == 0 and await broadcasts.finish(item, self.clock()):
            await self._edit(item, progress, done=True)
            return
        shown = f"{progress.sent}/{progress.failed}"
        if (
            progress.pending
            and shown != item.progress_shown  # the same counts: the same text, no edit
            and await broadcasts.take_progress(item, item.progress_shown, shown)
        ):
            item.progress_shown = shown
            await self._edit(item, progress, done=False)

    async def _edit(self, item: Broadcast, progress: broadcasts.Progress, *, done: bool) -> None:
        chat, message_id = item.progress_chat_id, item.progress_message_id
        if chat is None or message_id is None or chat < 0:  # the admin forgot their data
            return
        with use_locale(await _author_locale(item)):
            text = progress_text(item, progress, done=done)
        try:
            await self.bot.edit_message_text(text, chat_id=chat, message_id=message_id)
        except TelegramError as error:  # deleted by the admin, blocked, the network: the
            # broadcast goes on; the next edit (or none, at the end) shows the counts.
            log.info("progress of broadcast %s not edited: %s", item.reference, error)


async def _author_locale(item: Broadcast) -> str:
    """The progress message speaks the language of the admin who wrote the broadcast."""
    author = await User.get_or_none(id=item.author_id) if item.author_id else None
    return locale_of(author) if author else "zh_CN"
