"""Institution tiers and sanctions by chat (Shenyang art. 7, Rugao art. 21).

Admins: `/tier` lists the institutions (or `/tier NAME|CREDIT CODE` finds one); each card
carries its moves: promote or demote a tier, suspend, revoke, reinstate. A suspension or
revocation asks for a ground of Rugao art. 21 by button, then a typed note. Everyone
active: `/object` lists the promotions under public notice; an objection goes to the admins
with Uphold / Dismiss. The domain (models/tiers.py, models/revocation.py) checks each press
again, so an old or forged `in:` button changes nothing.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from handlers import flows
from handlers.context import (
    Context,
    answer,
    callback_parts,
    conversation_key,
    platform,
    publish,
    retire_buttons,
    with_user,
)
from handlers.engagement import today
from handlers.institutions_views import (
    institution_card,
    list_markup,
    objection_card,
    reasons_markup,
    tier_label,
)
from locales.i18n import t
from models import conversations, permissions, revocation, tiers
from models.conversations import ConversationState
from models.entities import InstitutionTier, User
from models.errors import NotAllowed, ValidationFailed
from models.institution_entities import SanctionKind

SANCTION_FLOW = "sanction"
OBJECTION_FLOW = "objection"
VERSION = 1
REASON = "reason"  # the free reason of "other"
NOTE = "note"


def _id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 12:
        raise NotAllowed("button.forged")
    return int(raw)


@with_user
async def tier_command(update: Update, context: Context, user: User) -> None:
    """/tier [name or credit code]: the institutions, each a button to its card."""
    assert update.effective_chat
    permissions.require("institution.tier", user)
    found = await tiers.find_institutions(" ".join(context.args or ()))
    if not found:
        await update.effective_chat.send_message(t("inst.none_found"))
    elif len(found) == 1:
        text, markup = await institution_card(found[0])
        await update.effective_chat.send_message(text, reply_markup=markup)
    else:
        await update.effective_chat.send_message(
            t("inst.list_title", count=len(found)), reply_markup=list_markup(found)
        )


async def _show_card(update: Update, org_id: int, note: str | None = None) -> None:
    text, markup = await institution_card(await tiers.institution(org_id))
    query = update.callback_query
    if note:
        text = f"{text}\n\n{note}"
    if query is not None and query.message is not None:
        await query.edit_message_text(text, reply_markup=markup)


async def _change_tier(update: Update, context: Context, admin: User, parts: list[str]) -> None:
    org_id = _id(parts[2])
    if parts[3] not in {tier.value for tier in InstitutionTier}:
        raise NotAllowed("button.forged")
    org, promotion, events = await tiers.change_tier(
        admin,
        org_id,
        InstitutionTier(parts[3]),
        today=today(context),
        notice_days=platform(context).institutions.notice_days,
    )
    if promotion is not None:
        note = t(
            "inst.notice_opened",
            reference=promotion.reference,
            tier=tier_label(promotion.to_tier),
            until=promotion.notice_ends_on.isoformat(),
        )
    else:
        note = t("inst.tier_done", institution=org.name, tier=tier_label(org.tier))
    await answer(update)
    await _show_card(update, org_id, note)
    await publish(context, events)


async def _ask_reason(update: Update, context: Context, admin: User, parts: list[str]) -> None:
    permissions.require("institution.revoke", admin)
    org = await tiers.institution(_id(parts[2]))
    if parts[3] not in (SanctionKind.SUSPEND.value, SanctionKind.REVOKE.value):
        raise NotAllowed("button.forged")
    await answer(update)
    query = update.callback_query
    if query is not None and query.message is not None:
        text = t("revoke.ask_reason", institution=org.name, kind=t(f"inst.kind.{parts[3]}"))
        await query.edit_message_text(text, reply_markup=reasons_markup(org.id, parts[3]))


async def _reason_chosen(update: Update, admin: User, parts: list[str]) -> None:
    permissions.require("institution.revoke", admin)
    org = await tiers.institution(_id(parts[2]))
    kind, code = parts[3], parts[4]
    if kind not in (SanctionKind.SUSPEND.value, SanctionKind.REVOKE.value):
        raise NotAllowed("button.forged")
    if code not in revocation.REASONS:
        raise NotAllowed("button.forged")
    state = REASON if code == revocation.OTHER else NOTE
    data = {"org_id": org.id, "name": org.name, "kind": kind, "code": code}
    await conversations.save(
        conversation_key(update), ConversationState(SANCTION_FLOW, state, VERSION, data)
    )
    await answer(update)
    await retire_buttons(update, t(f"revoke.reason.{code}"))
    await _ask_text(update, state, data)


async def _ask_text(update: Update, state: str, data: dict[str, object]) -> None:
    assert update.effective_chat
    key = "revoke.ask_other" if state == REASON else "revoke.ask_note"
    text = t(key, institution=str(data.get("name", "")), min=revocation.TEXT_MIN)
    await update.effective_chat.send_message(f"{text}\n{t('inst.cancel_hint')}")


async def on_sanction_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """The typed free reason, then the note; then the sanction is applied."""
    message = update.effective_message
    assert message is not None
    assert update.effective_chat
    data = conversation.data
    try:
        text = revocation.check_text(message.text or "")
    except ValidationFailed as problem:
        await message.reply_text(t(problem.message_id, **problem.params))
        return
    if conversation.state == REASON:
        data[REASON] = text
        conversation.state = NOTE
        await conversations.save(conversation_key(update), conversation)
        await _ask_text(update, NOTE, data)
        return
    try:
        org, events = await revocation.apply(
            user,
            int(data["org_id"]),
            SanctionKind(str(data["kind"])),
            reason_code=str(data["code"]),
            reason=data.get(REASON),
            note=text,
        )
    finally:
        # Applied or refused (another admin acted first): this flow is over either way.
        await conversations.clear(conversation_key(update))
    await update.effective_chat.send_message(t(f"inst.done.{data['kind']}", institution=org.name))
    card, markup = await institution_card(org)
    await update.effective_chat.send_message(card, reply_markup=markup)
    await publish(context, events)


async def _reinstate(update: Update, context: Context, admin: User, org_id: int) -> None:
    org, events = await revocation.apply(admin, org_id, SanctionKind.REINSTATE)
    await answer(update)
    await _show_card(update, org_id, t("inst.done.reinstate", institution=org.name))
    await publish(context, events)


@with_user
async def object_command(update: Update, context: Context, user: User) -> None:
    """/object: the promotions under public notice, each with an Object button."""
    assert update.effective_chat
    permissions.require("tier.object", user)
    notices = await tiers.notices_open_to_objection(today(context))
    if not notices:
        await update.effective_chat.send_message(t("objection.no_notice"))
        return
    for promotion in notices:
        text = t(
            "objection.notice_item",
            reference=promotion.reference,
            institution=promotion.organization.name,
            tier=tier_label(promotion.to_tier),
            until=promotion.notice_ends_on.isoformat(),
        )
        button = InlineKeyboardButton(t("objection.object"), callback_data=f"in:b:{promotion.id}")
        await update.effective_chat.send_message(
            text, reply_markup=InlineKeyboardMarkup([[button]])
        )


async def _begin_objection(update: Update, context: Context, user: User, raw: str) -> None:
    permissions.require("tier.object", user)
    promotion = await tiers.promotion_with_org(_id(raw))
    data = {"promotion_id": promotion.id, "name": promotion.organization.name}
    await conversations.save(
        conversation_key(update), ConversationState(OBJECTION_FLOW, REASON, VERSION, data)
    )
    await answer(update)
    assert update.effective_chat
    text = t(
        "objection.ask_reason",
        institution=promotion.organization.name,
        min=tiers.REASON_MIN,
        max=tiers.REASON_MAX,
    )
    await update.effective_chat.send_message(f"{text}\n{t('inst.cancel_hint')}")


async def on_objection_message(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    """The typed reason of an objection: checked, filed, sent to the admins."""
    message = update.effective_message
    assert message is not None
    assert update.effective_chat
    try:
        reason = tiers.check_reason(message.text or "")
    except ValidationFailed as problem:
        await message.reply_text(t(problem.message_id, **problem.params))
        return
    # Ends the flow in the same transaction: the same reason sent twice files once.
    async with conversations.finishing(conversation_key(update)) as mine:
        if not mine:
            return
        objection, events = await tiers.object_to(
            user, int(conversation.data["promotion_id"]), reason, today=today(context)
        )
    await update.effective_chat.send_message(t("objection.filed", reference=objection.reference))
    await publish(context, events)


async def _decide(update: Update, context: Context, admin: User, raw: str, upheld: bool) -> None:
    objection, events = await tiers.decide(admin, _id(raw), upheld=upheld)
    await answer(update)
    text, _ = objection_card(objection)
    query = update.callback_query
    if query is not None and query.message is not None:
        await query.edit_message_text(text, reply_markup=None)
    await publish(context, events)


@with_user
async def on_button(update: Update, context: Context, user: User) -> None:
    """An `in:` button: open a card, change a tier, sanction, object, decide an objection."""
    parts = callback_parts(update)
    action = parts[1] if len(parts) > 1 else ""
    if action == "o" and len(parts) == 3:
        permissions.require("institution.tier", user)
        await answer(update)
        await _show_card(update, _id(parts[2]))
    elif action == "t" and len(parts) == 4:
        await _change_tier(update, context, user, parts)
    elif action == "s" and len(parts) == 4:
        await _ask_reason(update, context, user, parts)
    elif action == "r" and len(parts) == 5:
        await _reason_chosen(update, user, parts)
    elif action == "a" and len(parts) == 3:
        await _reinstate(update, context, user, _id(parts[2]))
    elif action == "b" and len(parts) == 3:
        await _begin_objection(update, context, user, parts[2])
    elif action in ("u", "x") and len(parts) == 3:
        await _decide(update, context, user, parts[2], upheld=action == "u")
    else:
        raise NotAllowed("button.forged")


async def _resume(
    update: Update, context: Context, user: User, conversation: ConversationState
) -> None:
    if conversation.flow == SANCTION_FLOW:
        await _ask_text(update, conversation.state, conversation.data)
    else:
        assert update.effective_chat
        text = t(
            "objection.ask_reason",
            institution=str(conversation.data.get("name", "")),
            min=tiers.REASON_MIN,
            max=tiers.REASON_MAX,
        )
        await update.effective_chat.send_message(text)


def handlers() -> list[BaseHandler]:
    """/tier, /object and the `in:` buttons."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("tier", tier_command, filters=private),
        CommandHandler("object", object_command, filters=private),
        CallbackQueryHandler(on_button, pattern=r"^in:"),
    ]


flows.register(flows.Flow(SANCTION_FLOW, on_sanction_message, _resume))
flows.register(flows.Flow(OBJECTION_FLOW, on_objection_message, _resume))
