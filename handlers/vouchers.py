"""Innovation vouchers by chat (Shenyang art. 7, Jiangsu art. 22 and 30, Rugao art. 12(4)).

`/voucher`: an enterprise user sees the engagements a voucher may be asked for (amount, then
purpose, then a summary with Confirm), their vouchers (Withdraw) and the year's ledger; an
institution user sees the granted vouchers of completed and rated engagements (Redeem) and
its ledger; reviewers get the waiting voucher cards again. On a card, Grant asks for the
amount (the requested one is a button); Refuse is the review's own typed reason. Every `vc:`
press is checked again by models/vouchers.py, so a stale or forged one changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import flows
from handlers.context import (
    Context,
    answer,
    button_number,
    callback_parts,
    conversation_key,
    platform,
    publish,
    retire_buttons,
    timezone,
    with_user,
)
from handlers.engagement import today
from handlers.review import send_card, tell_late
from handlers.vouchers_views import (
    AMOUNT,
    APPLY_FLOW,
    CONFIRM,
    GRANT_FLOW,
    PURPOSE,
    VERSION,
    ask_text,
    grant_prompt,
    ledger_text,
    money,
    step_markup,
    summary,
    voucher_line,
)
from locales.i18n import t
from models import conversations, permissions, review, voucher_decisions, vouchers
from models.conversations import ConversationState
from models.demand_entities import Engagement
from models.entities import Organization, Review, ReviewStatus, Role, User
from models.errors import AlreadyDecided, NotAllowed, ValidationFailed


@with_user
async def voucher_command(update: Update, context: Context, user: User) -> None:
    """/voucher: what this user can do with vouchers now, and their ledger."""
    assert update.effective_chat
    chat = update.effective_chat
    if user.role in (Role.REVIEWER, Role.ADMIN):
        permissions.require("voucher.decide", user)
        waiting = await Review.filter(
            subject_type__in=list(vouchers.SUBJECTS), status=ReviewStatus.PENDING
        ).order_by("id")
        if not waiting:
            await chat.send_message(t("voucher.none_waiting"))
        for item in waiting:
            await send_card(context.bot, platform(context), timezone(context), user.id, item.id)
        return
    config = platform(context).vouchers
    ledger = await vouchers.own_ledger(user, today(context).year, config)
    assert user.organization_id is not None
    if user.role is Role.ENTERPRISE:
        rows = [
            [
                InlineKeyboardButton(
                    f"{demand.reference} · {demand.title}"[:60],
                    callback_data=f"vc:n:{demand.id}",
                )
            ]
            for demand, _ in await vouchers.eligible(user)
        ]
        key = "voucher.eligible_title" if rows else "voucher.none_eligible"
    else:
        rows = [
            [
                InlineKeyboardButton(
                    t("voucher.button.redeem", reference=v.reference),
                    callback_data=f"vc:r:{v.id}",
                )
            ]
            for v in await vouchers.redeemable(user)
        ]
        key = "voucher.redeemable_title" if rows else "voucher.none_redeemable"
    await chat.send_message(t(key), reply_markup=InlineKeyboardMarkup(rows) if rows else None)
    await _send_own(update, user)
    org = await Organization.get(id=user.organization_id)
    await chat.send_message(ledger_text(ledger, org.name))


async def _send_own(update: Update, user: User) -> None:
    """The organisation's vouchers, with Withdraw on those the enterprise may still withdraw."""
    assert update.effective_chat
    assert user.organization_id
    mine = await vouchers.of_organization(user.organization_id)
    if not mine:
        return
    lines = [t("voucher.mine_title")] + [voucher_line(v) for v in mine[:20]]
    rows = [
        [
            InlineKeyboardButton(
                t("voucher.button.withdraw", reference=v.reference), callback_data=f"vc:w:{v.id}"
            )
        ]
        for v in mine[:20]
        if user.role is Role.ENTERPRISE and v.status in (vouchers.V.APPLIED, vouchers.V.GRANTED)
    ]
    await update.effective_chat.send_message(
        "\n\n".join(lines), reply_markup=InlineKeyboardMarkup(rows) if rows else None
    )


async def _ask(update: Update, state: str, data: dict[str, object]) -> None:
    assert update.effective_chat
    if state == CONFIRM:
        text, markup = summary(data)
    else:
        text, markup = ask_text(state, data), step_markup(back=state != AMOUNT)
    await update.effective_chat.send_message(text, reply_markup=markup)


async def _begin_apply(update: Update, context: Context, user: User, raw: str) -> None:
    config = platform(context).vouchers
    demand, limit = await vouchers.may_apply(user, button_number(raw), config)
    engagement = await Engagement.get(demand_id=demand.id)
    institution = await Organization.get(id=engagement.institution_id)
    data: dict[str, object] = {
        "demand": demand.id,
        "reference": demand.reference,
        "institution": institution.name,
        "limit": str(limit) if limit is not None else None,
    }
    await conversations.save(
        conversation_key(update), ConversationState(APPLY_FLOW, AMOUNT, VERSION, data)
    )
    await answer(update)
    await _ask(update, AMOUNT, data)


async def on_apply_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """The typed amount, then the purpose; then the summary waits for Confirm."""
    message = update.effective_message
    assert message is not None
    data = conversation.data
    try:
        if conversation.state == AMOUNT:
            limit = data.get("limit")
            amount = vouchers.check_amount(
                message.text or "", Decimal(str(limit)) if limit else None
            )
            data["amount"], conversation.state = str(amount), PURPOSE
        elif conversation.state == PURPOSE:
            data["purpose"] = vouchers.check_purpose(message.text or "")
            conversation.state = CONFIRM
    except ValidationFailed as problem:
        await message.reply_text(t(problem.message_id, **problem.params))
        return
    await conversations.save(conversation_key(update), conversation)
    await _ask(update, conversation.state, data)


async def _confirm(update: Update, context: Context, user: User) -> None:
    stored = await conversations.load(conversation_key(update))
    if stored is None or stored.flow != APPLY_FLOW or stored.state != CONFIRM:
        raise NotAllowed("voucher.stale")
    data = stored.data
    # Ends the flow in the same transaction: a double Confirm applies once; a refusal keeps it.
    async with conversations.finishing(conversation_key(update)) as mine:
        if not mine:
            raise NotAllowed("voucher.stale")
        voucher, events = await vouchers.apply(
            user,
            int(data["demand"]),
            str(data.get("amount")),
            str(data.get("purpose")),
            today=today(context),
            config=platform(context).vouchers,
        )
    await answer(update)
    await retire_buttons(update)
    assert update.effective_chat
    await update.effective_chat.send_message(
        t("voucher.applied_done", reference=voucher.reference)
    )
    await publish(context, events)


async def _back(update: Update, user: User) -> None:
    stored = await conversations.load(conversation_key(update))
    if stored is None or stored.flow != APPLY_FLOW or stored.state == AMOUNT:
        raise NotAllowed("voucher.stale")
    stored.state = AMOUNT if stored.state == PURPOSE else PURPOSE
    await conversations.save(conversation_key(update), stored)
    await answer(update)
    await retire_buttons(update)
    await _ask(update, stored.state, stored.data)


async def _cancel(update: Update) -> None:
    stored = await conversations.load(conversation_key(update))
    if stored is not None and stored.flow in (APPLY_FLOW, GRANT_FLOW):
        await conversations.clear(conversation_key(update))
    await answer(update)
    await retire_buttons(update, t("voucher.cancelled"))


async def _begin_grant(update: Update, context: Context, user: User, raw: str) -> None:
    permissions.require("voucher.decide", user)
    target = await review.authorised_review(button_number(raw), user.id)
    if target.subject_type != vouchers.APPLICATION:
        raise NotAllowed("button.forged")
    await review.ensure_pending(target)
    voucher = await vouchers.get(target.subject_id)
    data = {"review": target.id, "voucher": voucher.id}
    await conversations.save(
        conversation_key(update), ConversationState(GRANT_FLOW, AMOUNT, VERSION, data)
    )
    await answer(update)
    assert update.effective_chat
    text, markup = grant_prompt(target.id, voucher)
    await update.effective_chat.send_message(text, reply_markup=markup)


async def _grant(
    update: Update, context: Context, user: User, voucher_id: int, raw: object
) -> None:
    voucher, events = await voucher_decisions.grant(
        user, voucher_id, raw, platform(context).vouchers
    )
    await conversations.clear(conversation_key(update))
    await answer(update)
    assert update.effective_chat
    if update.callback_query is not None:
        await retire_buttons(update)
    await update.effective_chat.send_message(
        t(
            "voucher.granted_done",
            reference=voucher.reference,
            amount=money(voucher.amount_granted),
        )
    )
    await publish(context, events)


async def _grant_requested(update: Update, context: Context, user: User, raw: str) -> None:
    target = await review.authorised_review(button_number(raw), user.id)
    if target.subject_type != vouchers.APPLICATION:
        raise NotAllowed("button.forged")
    await _grant(update, context, user, target.subject_id, None)


async def on_grant_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """The typed amount to grant: over the request or a cap is refused, the flow stays."""
    message = update.effective_message
    assert message is not None
    try:
        await _grant(update, context, user, int(conversation.data["voucher"]), message.text or "")
    except ValidationFailed as problem:
        await message.reply_text(t(problem.message_id, **problem.params))
    except AlreadyDecided as late:
        await tell_late(update, late)


async def _redeem(update: Update, context: Context, user: User, raw: str) -> None:
    voucher_id = button_number(raw)
    events = await vouchers.request_redemption(user, voucher_id)
    voucher = await vouchers.get(voucher_id)
    await answer(update)
    await retire_buttons(update, t("voucher.redeem_requested_done", reference=voucher.reference))
    await publish(context, events)


async def _withdraw(update: Update, context: Context, user: User, raw: str) -> None:
    voucher_id = button_number(raw)
    events = await vouchers.withdraw(user, voucher_id)
    voucher = await vouchers.get(voucher_id)
    await answer(update)
    await retire_buttons(update, t("voucher.withdrawn_done", reference=voucher.reference))
    await publish(context, events)


@with_user
async def on_button(update: Update, context: Context, user: User) -> None:
    """A `vc:` button: apply (start, back, confirm, cancel), grant, redeem, withdraw."""
    parts = callback_parts(update)
    action, arg = (parts[1] if len(parts) > 1 else ""), (parts[2] if len(parts) > 2 else "")
    try:
        if action == "n" and len(parts) == 3:
            await _begin_apply(update, context, user, arg)
        elif action == "c" and len(parts) == 2:
            await _confirm(update, context, user)
        elif action == "b" and len(parts) == 2:
            await _back(update, user)
        elif action == "x" and len(parts) == 2:
            await _cancel(update)
        elif action == "g" and len(parts) == 3:
            await _begin_grant(update, context, user, arg)
        elif action == "gr" and len(parts) == 3:
            await _grant_requested(update, context, user, arg)
        elif action == "r" and len(parts) == 3:
            await _redeem(update, context, user, arg)
        elif action == "w" and len(parts) == 3:
            await _withdraw(update, context, user, arg)
        else:
            raise NotAllowed("button.forged")
    except AlreadyDecided as late:
        await tell_late(update, late)


async def _resume(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    if conversation.flow == APPLY_FLOW:
        await _ask(update, conversation.state, conversation.data)
        return
    assert update.effective_chat
    voucher = await vouchers.get(int(conversation.data["voucher"]))
    text, markup = grant_prompt(int(conversation.data["review"]), voucher)
    await update.effective_chat.send_message(text, reply_markup=markup)


def handlers() -> list[BaseHandler]:
    """/voucher and the `vc:` buttons."""
    return [
        CommandHandler("voucher", voucher_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(on_button, pattern=r"^vc:"),
    ]


flows.register(flows.Flow(APPLY_FLOW, on_apply_message, _resume))
flows.register(flows.Flow(GRANT_FLOW, on_grant_message, _resume))
