"""Commands everyone has: /start (with invite deep links), /help, /status, /language, /cancel."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove, Update

from handlers import flows, registration
from handlers.context import (
    Context,
    answer,
    callback_parts,
    conversation_key,
    edit_pressed,
    notifier,
    platform,
    publish,
    timezone,
    with_user,
)
from handlers.review import send_card
from handlers.review_views import reason_text
from locales.i18n import t, use_locale
from models import conversations, invites, review
from models.entities import Registration, RegistrationStatus, User, UserStatus
from models.users import locale_of, set_locale

LANGUAGES = (("zh_CN", "简体中文"), ("en", "English"))


@with_user
async def start(update: Update, context: Context, user: User) -> None:
    """/start: redeem an invite, continue a flow, show the status, or begin registration."""
    assert update.effective_chat
    payload = context.args[0] if context.args else ""
    if payload.startswith(invites.PREFIX):
        events = await invites.redeem(payload.removeprefix(invites.PREFIX), user.id)
        await user.refresh_from_db()
        await update.effective_chat.send_message(t("invite.welcome", role=t(f"role.{user.role}")))
        await publish(context, events)
        return
    stored = await conversations.load(conversation_key(update))
    flow = flows.find(stored.flow) if stored is not None else None
    if stored is not None and flow is not None:
        await update.effective_chat.send_message(t("registration.continue"))
        await flow.resume(update, context, user, stored)
        return
    if user.status is UserStatus.ACTIVE:
        await update.effective_chat.send_message(
            t(
                "start.welcome_back",
                name=user.real_name or user.first_name,
                role=t(f"role.{user.role}"),
            )
        )
        # The role's menu again: an admin from INNOBRIDGE_ADMIN_IDS has had none set (a
        # per-chat menu needs a started chat), and a menu changed by a release reaches them.
        await notifier(context).refresh_menu(user)
        await deliver_waiting_cards(context, user)
        return
    latest = await _latest_registration(user)
    if latest is not None and latest.status is RegistrationStatus.SUBMITTED:
        await update.effective_chat.send_message(t("status.pending", reference=latest.reference))
        return
    if user.status is UserStatus.SUSPENDED:
        await update.effective_chat.send_message(t("status.suspended"))
        return
    await update.effective_chat.send_message(t("start.welcome"))
    await registration.begin(update, context, user)


async def deliver_waiting_cards(context: Context, user: User) -> None:
    """Cards a reviewer could not get before they started the bot (or got a role)."""
    for review_id in await review.undelivered_cards(user):
        await send_card(context.bot, platform(context), timezone(context), user.id, review_id)


async def _latest_registration(user: User) -> Registration | None:
    return await Registration.filter(user_id=user.id).order_by("-id").first()


@with_user
async def status(update: Update, context: Context, user: User) -> None:
    """/status: where the account stands, with the application's reference."""
    assert update.effective_chat
    latest = await _latest_registration(user)
    if user.status is UserStatus.ACTIVE:
        text = t("status.active", role=t(f"role.{user.role}"))
    elif user.status is UserStatus.SUSPENDED:
        text = t("status.suspended")
    elif latest is None:
        text = t("status.unregistered")
    elif latest.status is RegistrationStatus.SUBMITTED:
        text = t("status.pending", reference=latest.reference)
    else:
        last_reason = await review.latest_reason(latest.id)
        reason = reason_text(last_reason, platform(context), locale_of(user))
        text = t("status.rejected", reference=latest.reference, reason=reason)
    await update.effective_chat.send_message(text)


@with_user
async def help_command(update: Update, context: Context, user: User) -> None:
    """/help: what this user can do now."""
    assert update.effective_chat
    key = (
        f"help.{user.role.value}"
        if user.status is UserStatus.ACTIVE and user.role
        else "help.pending"
    )
    # Everyone may take their data or have it removed (PIPL art. 45, 47).
    privacy_help = t("help.privacy")
    if user.status is UserStatus.ACTIVE:
        # Any active user may object to a promotion under public notice (Shenyang art. 7).
        privacy_help = f"{t('help.object')}\n{privacy_help}"
    await update.effective_chat.send_message(f"{t(key)}\n\n{privacy_help}")


@with_user
async def language(update: Update, context: Context, user: User) -> None:
    """/language: choose 简体中文 or English."""
    assert update.effective_chat
    buttons = [
        [InlineKeyboardButton(label, callback_data=f"lang:{code}")] for code, label in LANGUAGES
    ]
    await update.effective_chat.send_message(
        t("language.choose"), reply_markup=InlineKeyboardMarkup(buttons)
    )


@with_user
async def on_language_button(update: Update, context: Context, user: User) -> None:
    """Store the chosen language and answer in it."""
    parts = callback_parts(update)
    code = parts[1] if len(parts) == 2 else ""
    if code not in dict(LANGUAGES):
        await answer(update, t("button.outdated"), alert=True)
        return
    await set_locale(user, code)
    with use_locale(locale_of(user)):
        await answer(update)
        await edit_pressed(update, t("language.set"), resend=True)
        await notifier(context).refresh_menu(user)
        stored = await conversations.load(conversation_key(update))
        flow = flows.find(stored.flow) if stored is not None else None
        if stored is not None and flow is not None:
            # Ask the current question again, now in the new language.
            await flow.resume(update, context, user, stored)


@with_user
async def cancel(update: Update, context: Context, user: User) -> None:
    """/cancel: leave whatever flow the user is in."""
    assert update.effective_chat
    stored = await conversations.load(conversation_key(update))
    await conversations.clear(conversation_key(update))
    key = "cancel.done" if stored is not None else "cancel.nothing"
    await update.effective_chat.send_message(t(key), reply_markup=ReplyKeyboardRemove())


@with_user
async def unknown_command(update: Update, context: Context, user: User) -> None:
    """A command the bot does not have."""
    assert update.effective_chat
    await update.effective_chat.send_message(t("command.unknown"))


@with_user
async def on_message(update: Update, context: Context, user: User) -> None:
    """Any other message: the answer to the step the user is at, or a pointer to /help."""
    assert update.effective_chat
    stored = await conversations.load(conversation_key(update))
    flow = flows.find(stored.flow) if stored is not None else None
    if stored is not None and flow is not None and stored.already_applied(update.update_id):
        # Processed before a crash, answer kept: ask the current step again, take nothing.
        await flow.resume(update, context, user, stored)
    elif stored is not None and flow is not None:
        await flow.on_message(update, context, user, stored)
    else:
        await update.effective_chat.send_message(t("message.no_flow"))


@with_user
async def on_registration_button(update: Update, context: Context, user: User) -> None:
    """A registration button, checked against the stored step."""
    stored = await conversations.load(conversation_key(update))
    await registration.on_callback(update, context, user, stored)


@with_user
async def on_stale_button(update: Update, context: Context, user: User) -> None:
    """A button this bot never makes (or no longer understands)."""
    await answer(update, t("button.outdated"), alert=True)
