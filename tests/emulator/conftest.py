"""Fixtures: an emulator served over real HTTP, raw Bot API calls, and a PTB echo bot."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.emulator import BotAPIEmulator

TOKEN = "123456:TEST-token_abc"
BOT_ID = 123456


@pytest.fixture
def emulator() -> BotAPIEmulator:
    emu = BotAPIEmulator()
    emu.add_bot(TOKEN)
    return emu


@pytest.fixture
async def server(emulator: BotAPIEmulator) -> AsyncIterator[TestServer]:
    srv = TestServer(emulator.make_app())
    await srv.start_server()
    yield srv
    await srv.close()


@pytest.fixture
async def http(server: TestServer) -> AsyncIterator[TestClient[Any, Any]]:
    client: TestClient[Any, Any] = TestClient(server)
    await client.start_server()
    yield client
    await client.close()


ApiCall = Callable[..., Awaitable[tuple[int, dict[str, Any]]]]


@pytest.fixture
def api(http: TestClient[Any, Any]) -> ApiCall:
    """POST a Bot API method as JSON; returns (HTTP status, decoded body)."""

    async def call(method: str, token: str = TOKEN, **params: Any) -> tuple[int, dict[str, Any]]:
        response = await http.post(f"/bot{token}/{method}", json=params)
        return response.status, await response.json()

    return call


def base_url(server: TestServer) -> str:
    return str(server.make_url("")).rstrip("/")


def build_app(server: TestServer, token: str = TOKEN) -> Application[Any, Any, Any, Any, Any, Any]:
    """A PTB application talking to the emulator, with echo-style handlers."""
    url = base_url(server)
    app = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .build()
    )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes ✅", callback_data="yes")]])
        await update.message.reply_html(
            f"Hi <b>{update.message.from_user.first_name}</b>!", reply_markup=keyboard
        )

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer(f"got {query.data}")
        await query.edit_message_text(f"You chose {query.data}")

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        assert update.message.text is not None
        await update.message.reply_text(update.message.text)

    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return app


@pytest.fixture
async def polling_bot(
    server: TestServer,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """The echo bot long-polling the emulator over HTTP (queue mode)."""
    app = build_app(server)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    yield app
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
