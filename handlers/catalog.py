"""The catalogue in chat: /catalog browses by kind, category and township, /search finds by
keywords in Chinese or English; each result opens a card with Enquire or Book (issue 9).

Buttons: `ct:k:<kind>`, `ct:c:<kind>:<category>`, `ct:t:<kind>:<category>:<township>` and
`ct:p:…:<offset>` narrow and page /catalog ("-" means any); `cs:<offset>` pages the last
search, kept in the user's conversation so the query need not ride in the button.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import bookings, catalog_requests, flows, listings
from handlers.catalog_views import card_markup, listing_text, owner_line, results
from handlers.context import (
    Context,
    answer,
    button_number,
    callback_parts,
    conversation_key,
    edit_pressed,
    platform,
    with_user,
)
from handlers.uploads import send_files, stored_files
from locales.i18n import current_locale, t
from models import catalog_search, conversations, permissions
from models import listings as listing_rules
from models.conversations import ConversationState
from models.entities import User
from models.errors import NotAllowed, ValidationFailed
from models.listing_entities import Listing, ListingKind

SEARCH_FLOW = "catalog_search"
VERSION = 1
ANY = "-"


def _b(label: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(label, callback_data=data)


@with_user
async def catalog_command(update: Update, context: Context, user: User) -> None:
    """/catalog: first the kind."""
    permissions.require("catalog.browse", user)
    assert update.effective_chat
    rows = [[_b(t(f"listing.kind.{k.value}"), f"ct:k:{k.value}")] for k in ListingKind]
    rows.append([_b(t("catalog.any_kind"), f"ct:k:{ANY}")])
    await update.effective_chat.send_message(
        t("catalog.ask_kind"), reply_markup=InlineKeyboardMarkup(rows)
    )


def _kind(raw: str) -> ListingKind | None:
    if raw == ANY:
        return None
    if raw not in {k.value for k in ListingKind}:
        raise NotAllowed("button.forged")
    return ListingKind(raw)


@with_user
async def on_catalog_button(update: Update, context: Context, user: User) -> None:
    """Narrow by kind, then category, then township; then page through the results."""
    permissions.require("catalog.browse", user)
    parts = callback_parts(update)
    config, locale = platform(context), current_locale()
    if len(parts) < 3:
        raise NotAllowed("button.forged")
    kind = _kind(parts[2])
    category = parts[3] if len(parts) > 3 else ANY
    town = parts[4] if len(parts) > 4 else ANY
    if (category != ANY and config.category(category) is None) or (
        town != ANY and config.township(town) is None
    ):
        raise NotAllowed("button.forged")
    await answer(update)
    if parts[1] == "k" and len(parts) == 3:
        items = [(c.code, c.label(locale)) for c in config.categories]
        rows = [
            [_b(label, f"ct:c:{parts[2]}:{code}") for code, label in items[i : i + 2]]
            for i in range(0, len(items), 2)
        ]
        rows.append([_b(t("catalog.any_category"), f"ct:c:{parts[2]}:{ANY}")])
        await edit_pressed(update, t("catalog.ask_category"), InlineKeyboardMarkup(rows))
    elif parts[1] == "c" and len(parts) == 4:
        base = f"ct:t:{parts[2]}:{category}"
        items = [(w.code, w.label(locale)) for w in config.townships]
        rows = [
            [_b(label, f"{base}:{code}") for code, label in items[i : i + 2]]
            for i in range(0, len(items), 2)
        ]
        rows.append([_b(t("catalog.any_township"), f"{base}:{ANY}")])
        await edit_pressed(update, t("catalog.ask_township"), InlineKeyboardMarkup(rows))
    elif parts[1] in ("t", "p") and len(parts) == (5 if parts[1] == "t" else 6):
        offset = button_number(parts[5]) if parts[1] == "p" else 0
        size = config.catalog.page_size
        hits, total = await catalog_search.browse(
            kind,
            None if category == ANY else category,
            None if town == ANY else town,
            offset=offset,
            limit=size,
        )
        page = f"ct:p:{parts[2]}:{category}:{town}"
        text, markup = results(hits, total, offset, size, t("catalog.title"), page)
        await edit_pressed(update, text, markup, resend=True)
    else:
        raise NotAllowed("button.forged")


@with_user
async def search_command(update: Update, context: Context, user: User) -> None:
    """/search words: listings whose text holds every word; without words, ask for them."""
    permissions.require("catalog.browse", user)
    query = " ".join(context.args or ())
    conversation = ConversationState(SEARCH_FLOW, "query", VERSION, {})
    if not query:
        await conversations.save(conversation_key(update), conversation)
        assert update.effective_chat
        await update.effective_chat.send_message(t("catalog.ask_query"))
        return
    await _search(update, context, conversation, query, 0)


async def _search(
    update: Update, context: Context, conversation: ConversationState, query: str, offset: int
) -> None:
    assert update.effective_chat
    try:
        catalog_search.terms_of(query)
    except ValidationFailed as problem:
        # Nothing lost: the user is still asked for keywords and may type them again.
        await conversations.save(conversation_key(update), conversation)
        await update.effective_chat.send_message(
            t(problem.message_id, **problem.params) + "\n" + t("catalog.ask_query")
        )
        return
    size = platform(context).catalog.page_size
    hits, total = await catalog_search.search(query, offset=offset, limit=size)
    conversation.data["query"] = query
    await conversations.save(conversation_key(update), conversation)
    text, markup = results(hits, total, offset, size, t("catalog.search_title", query=query), "cs")
    if update.callback_query is not None:
        await edit_pressed(update, text, markup, resend=True)
    else:
        await update.effective_chat.send_message(text, reply_markup=markup)


async def on_search_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """A message while /search waits: the keywords (another search replaces the last)."""
    message = update.effective_message
    assert message is not None
    if not message.text:
        await message.reply_text(t("catalog.ask_query"))
        return
    await _search(update, context, conversation, message.text, 0)


@with_user
async def on_search_page(update: Update, context: Context, user: User) -> None:
    """cs:<offset>: another page of the last search."""
    parts = callback_parts(update)
    if len(parts) != 2:
        raise NotAllowed("button.forged")
    offset = button_number(parts[1])
    stored = await conversations.load(conversation_key(update))
    if stored is None or stored.flow != SEARCH_FLOW or not stored.data.get("query"):
        await answer(update, t("button.outdated"), alert=True)
        return
    await answer(update)
    await _search(update, context, stored, str(stored.data["query"]), offset)


async def _pressed_listing(update: Update, user: User) -> Listing:
    """The listing a co:/cf:<listing> button names, if this user may see it."""
    parts = callback_parts(update)
    if len(parts) != 2:
        raise NotAllowed("button.forged")
    return await listing_rules.visible(button_number(parts[1]), user)


@with_user
async def on_open(update: Update, context: Context, user: User) -> None:
    """co:<listing>: the card of one listing, with Enquire or Book."""
    listing = await _pressed_listing(update, user)
    hit = await catalog_search.hit_of(listing)
    text = listing_text(
        listing, hit.owner.name, platform(context), current_locale(), owner_line(hit)
    )
    await answer(update)
    assert update.effective_chat
    markup = card_markup(listing, listing_rules.is_owner(user, listing))
    await update.effective_chat.send_message(text, reply_markup=markup)


@with_user
async def on_files(update: Update, context: Context, user: User) -> None:
    """cf:<listing>: the listing's photos and spec sheets, to whoever may see the listing."""
    listing = await _pressed_listing(update, user)
    files = stored_files(listing.attachments)
    if not files:
        await answer(update, t("review.no_files"), alert=True)
        return
    await answer(update)
    await send_files(context, user.id, listing.reference, files)


async def _resume_search(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    assert update.effective_chat
    await update.effective_chat.send_message(t("catalog.ask_query"))


def handlers() -> list[BaseHandler]:
    """This area's commands, then its buttons."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("publish", listings.publish_command, filters=private),
        CommandHandler("listings", listings.listings_command, filters=private),
        CommandHandler("catalog", catalog_command, filters=private),
        CommandHandler("search", search_command, filters=private),
        CallbackQueryHandler(listings.on_button, pattern=r"^ls:"),
        CallbackQueryHandler(listings.on_manage_button, pattern=r"^lm:"),
        CallbackQueryHandler(on_catalog_button, pattern=r"^ct:"),
        CallbackQueryHandler(on_search_page, pattern=r"^cs:"),
        CallbackQueryHandler(on_open, pattern=r"^co:"),
        CallbackQueryHandler(on_files, pattern=r"^cf:"),
        *catalog_requests.handlers(),
        *bookings.handlers(),
    ]


flows.register(flows.Flow(SEARCH_FLOW, on_search_message, _resume_search))
