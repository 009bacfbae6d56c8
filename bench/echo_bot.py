"""The baseline: python-telegram-bot 22's bare echo bot, one sendMessage per update.

`python -m bench.echo_bot API_ROOT TOKEN` polls the emulator until SIGTERM. Defaults as PTB
ships them (sequential updates, no rate limiter), like innobridge's Application.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import Update  # noqa: E402
from telegram.ext import Application, ContextTypes, MessageHandler, filters  # noqa: E402


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Repeat the text."""
    assert update.effective_chat is not None
    assert update.effective_message is not None
    await update.effective_chat.send_message(update.effective_message.text or "")


def main() -> None:
    """Poll until a signal."""
    api_root, token = sys.argv[1], sys.argv[2]
    application = (
        Application.builder()
        .token(token)
        .base_url(f"{api_root.rstrip('/')}/bot")
        .base_file_url(f"{api_root.rstrip('/')}/file/bot")
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=["message", "callback_query"])


if __name__ == "__main__":
    main()
