"""Review from the phone: the card's checklist and files, Approve / Reject, a reason, /pending.

Registrations, demands and contract filings share these buttons (`rv:<action>:<review>`).
Every press is authorised against the database (models/review.py), so a forged or replayed
callback has no effect and says so; the decision itself is first-wins.
"""

from __future__ import annotations

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers import flows
from handlers.context import (
    Context,
    answer,
    button_number,
    callback_parts,
    conversation_key,
    edit_pressed,
    platform,
    publish,
    timezone,
    with_user,
)
from handlers.review_views import (
    REASON_PRESET,
    card_markup,
    card_text,
    pending_label,
    reason_prompt,
)
from handlers.uploads import send_files, stored_files
from locales.i18n import current_locale, t
from models import conversations, review
from models.conversations import ConversationState
from models.entities import User
from models.errors import AlreadyDecided, NotAllowed, ValidationFailed
from models.platform import PlatformConfig
from models.review import ContractCard, DemandCard, ListingCard

FLOW = "review_reason"
VERSION = 1


def _tz(context: Context) -> str:
    return timezone(context)


def _review_id(raw: str) -> int:
    return button_number(raw)


async def send_card(
    bot: Bot, config: PlatformConfig, zone: str, chat_id: int, review_id: int
) -> None:
    """Send a review card to a reviewer (in the current locale) and remember where it went."""
    card = await review.card(review_id, chat_id)
    message = await bot.send_message(
        chat_id,
        card_text(card, config, current_locale(), zone),
        reply_markup=card_markup(card),
    )
    await review.remember_card(review_id, chat_id, message.message_id)


async def edit_card(
    bot: Bot, config: PlatformConfig, zone: str, chat_id: int, message_id: int, review_id: int
) -> None:
    """Bring one copy of a card up to date (e.g. to say who decided)."""
    card = await review.card(review_id, chat_id)
    await bot.edit_message_text(
        card_text(card, config, current_locale(), zone),
        chat_id=chat_id,
        message_id=message_id,
        reply_markup=card_markup(card),
    )


@with_user
async def on_review_button(update: Update, context: Context, user: User) -> None:
    """Approve, Reject, a preset reason, keep pending, a checklist tick, or the files."""
    parts = callback_parts(update)
    if len(parts) < 3:
        raise NotAllowed("button.forged")
    action, review_id = parts[1], _review_id(parts[2])
    try:
        await _on_action(update, context, user, action, review_id, parts)
    except AlreadyDecided as late:
        await tell_late(update, late)


async def _on_action(
    update: Update, context: Context, user: User, action: str, review_id: int, parts: list[str]
) -> None:
    target = await review.authorised_review(review_id, user.id)
    if action == "a":
        await _decide(update, context, user, review_id, approve=True, reason=None)
    elif action == "r":
        await review.ensure_pending(target)
        await answer(update)
        card = await review.card(review_id, user.id)
        await conversations.save(
            conversation_key(update),
            ConversationState(FLOW, "reason", VERSION, {"review": review_id}),
        )
        text, markup = reason_prompt(
            review_id, card.reference, platform(context), current_locale()
        )
        assert update.effective_chat
        await update.effective_chat.send_message(text, reply_markup=markup)
    elif action == "why" and len(parts) == 4:
        codes = {r.code for r in platform(context).review.reject_reasons}
        if parts[3] not in codes:
            raise NotAllowed("button.forged")
        await _decide(
            update, context, user, review_id, approve=False, reason=REASON_PRESET + parts[3]
        )
    elif action == "t" and len(parts) == 4:
        # Rugao art. 15: each reviewer attests item by item, on their own copy.
        await review.tick(review_id, user.id, parts[3])
        await answer(update)
        card = await review.card(review_id, user.id)
        await edit_pressed(update, markup=card_markup(card))
    elif action == "f":
        await _send_files(update, context, user, review_id)
    elif action == "keep":
        await conversations.clear(conversation_key(update))
        await answer(update, t("review.kept_pending"))
        await edit_pressed(update)
    else:
        raise NotAllowed("button.forged")


async def on_reason_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """A typed rejection reason."""
    message = update.effective_message
    assert message is not None
    if not message.text:
        await message.reply_text(t("input.text_expected"))
        return
    review_id = int(conversation.data.get("review", 0))
    try:
        await _decide(update, context, user, review_id, approve=False, reason=message.text)
    except ValidationFailed as problem:
        await message.reply_text(t(problem.message_id, **problem.params))
    except AlreadyDecided as late:
        await tell_late(update, late)


def late_text(late: AlreadyDecided) -> str:
    """Who decided first, or that the record was withdrawn (the chat's and the web's words)."""
    if late.params.get("withdrawn"):
        return t("review.withdrawn_late")
    key = "review.already_approved" if late.params.get("approved") else "review.already_rejected"
    return t(key, name=late.params.get("by", "?"))


async def tell_late(update: Update, late: AlreadyDecided) -> None:
    """Someone else was first: say who, and drop any half-typed reason or amount."""
    await conversations.clear(conversation_key(update))
    text = late_text(late)
    if update.callback_query is not None:
        await answer(update, text, alert=True)
    elif update.effective_chat is not None:
        await update.effective_chat.send_message(text)


async def _decide(
    update: Update,
    context: Context,
    user: User,
    review_id: int,
    *,
    approve: bool,
    reason: str | None,
) -> None:
    events = await review.decide(
        review_id, user.id, approve=approve, reason=reason, platform=platform(context)
    )
    await conversations.clear(conversation_key(update))
    await answer(update, t("review.done"))
    if (
        update.callback_query is not None
        and update.callback_query.data
        and update.callback_query.data.startswith("rv:why")
    ):
        await edit_pressed(update)
    await publish(context, events)


@with_user
async def pending(update: Update, context: Context, user: User) -> None:
    """/pending: what waits for this reviewer, a page at a time."""
    await _show_page(update, context, user, offset=0)


@with_user
async def on_pending_button(update: Update, context: Context, user: User) -> None:
    """Paging and opening cards from the /pending list."""
    parts = callback_parts(update)
    if len(parts) != 3:
        raise NotAllowed("button.forged")
    if parts[1] == "p":
        offset = button_number(parts[2])
        await answer(update)
        await _show_page(update, context, user, offset=offset, edit=True)
    elif parts[1] == "o":
        target = await review.authorised_review(_review_id(parts[2]), user.id)
        await answer(update)
        await send_card(context.bot, platform(context), _tz(context), user.id, target.id)
    else:
        raise NotAllowed("button.forged")


async def _show_page(
    update: Update, context: Context, user: User, *, offset: int, edit: bool = False
) -> None:
    if not review.stages_of(user):
        raise NotAllowed("review.not_allowed")
    size = platform(context).review.pending_page_size
    page, total = await review.pending_for(user, offset=offset, limit=size)
    if total == 0:
        text, rows = t("pending.empty"), list[list[InlineKeyboardButton]]()
    else:
        text = t("pending.title", first=offset + 1, last=offset + len(page), total=total)
        rows = []
        for item in page:
            label = pending_label(await review.card(item.id, user.id))
            rows.append([InlineKeyboardButton(label, callback_data=f"pq:o:{item.id}")])
        nav = []
        if offset > 0:
            nav.append(
                InlineKeyboardButton(
                    t("button.previous"), callback_data=f"pq:p:{max(0, offset - size)}"
                )
            )
        if offset + size < total:
            nav.append(
                InlineKeyboardButton(t("button.next"), callback_data=f"pq:p:{offset + size}")
            )
        if nav:
            rows.append(nav)
    markup = InlineKeyboardMarkup(rows) if rows else None
    if edit and update.callback_query is not None:
        await edit_pressed(update, text, markup, resend=True)
    else:
        assert update.effective_chat
        await update.effective_chat.send_message(text, reply_markup=markup)


async def _send_files(update: Update, context: Context, user: User, review_id: int) -> None:
    """The demand's attachments, or the filed contract, sent to the reviewer who asked."""
    card = await review.card(review_id, user.id)
    files: list[tuple[str, str]] = []
    if isinstance(card, DemandCard):
        files = stored_files(card.demand.attachments)
    elif isinstance(card, ListingCard):
        files = stored_files(card.listing.attachments)
    elif isinstance(card, ContractCard) and card.engagement.contract_file_id:
        file_id = card.engagement.contract_file_id
        files = [(card.engagement.contract_kind or "document", file_id)]
    if not files:
        await answer(update, t("review.no_files"), alert=True)
        return
    await answer(update)
    await send_files(context, user.id, card.reference, files)


async def _resume_reason(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    # After a restart the reviewer is still asked for the reason they were typing.
    assert update.effective_chat
    await update.effective_chat.send_message(t("review.reason_again"))


flows.register(flows.Flow(FLOW, on_reason_message, _resume_reason))
