"""The notifier: turns domain events into Telegram messages, each in its recipient's language."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import (
    notify_catalog,
    notify_demand_submit,
    notify_engagement,
    notify_evaluation,
    notify_institutions,
    notify_market,
    notify_vouchers,
)
from handlers.review import edit_card, send_card
from handlers.review_views import reason_text
from locales.i18n import t, use_locale
from models import review
from models.entities import Review, Role, User, UserStatus
from models.events import (
    Event,
    RegistrationDecided,
    ReviewDecided,
    ReviewRequested,
    RoleGranted,
)
from models.platform import PlatformConfig
from models.users import locale_of, mark_unreachable

log = logging.getLogger(__name__)
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply

BASE_COMMANDS = ("start", "help", "status", "language", "cancel", "mydata", "forget")
ROLE_COMMANDS: dict[Role, tuple[str, ...]] = {
    Role.ENTERPRISE: ("new", "my", "catalog", "search", "voucher", "complaint", "object"),
    Role.ASSISTANT: ("new", "township", "my", "catalog", "search", "object"),
    Role.INSTITUTION: (
        "demands",
        "my",
        "publish",
        "listings",
        "bookings",
        "catalog",
        "voucher",
        "report",
        "evaluation",
        "object",
    ),
    Role.RESEARCH: ("demands", "my", "publish", "listings", "catalog", "object"),
    Role.REVIEWER: ("pending", "voucher", "catalog", "object", "dashboard"),
    Role.PUBLISHER: ("pending", "catalog", "object"),
    Role.ADMIN: (
        "pending",
        "voucher",
        "invite",
        "complaints",
        "reminders",
        "tier",
        "catalog",
        "object",
        "evaluate",
        "stats",
        "export",
        "broadcast",
        "dashboard",
        "apitoken",
    ),
}
# Each area of the demand lifecycle renders its own events (bot/notify_*.py).
AREA_HANDLERS = (
    notify_demand_submit.HANDLERS,
    notify_market.HANDLERS,
    notify_engagement.HANDLERS,
    notify_institutions.HANDLERS,
    notify_vouchers.HANDLERS,
    notify_evaluation.HANDLERS,
    notify_catalog.HANDLERS,
)
MENU_LANGUAGES = {"zh_CN": "zh", "en": "en"}


def commands_for(role: Role | None) -> list[BotCommand]:
    """The command menu of a role, in the current locale."""
    names = BASE_COMMANDS + ROLE_COMMANDS.get(role, ()) if role else BASE_COMMANDS
    return [BotCommand(name, t(f"command.{name}")) for name in names]


class TelegramNotifier:
    """Sends what the domain's events call for; one that cannot be delivered is logged."""

    def __init__(self, bot: Bot, platform: PlatformConfig, timezone: str) -> None:
        self.bot = bot
        self.platform = platform
        self.timezone = timezone

    async def publish(self, events: Sequence[Event]) -> None:
        """Deliver the messages these events call for."""
        for event in events:
            if isinstance(event, ReviewRequested):
                await self._send_cards(event.review_id)
            elif isinstance(event, ReviewDecided):
                await self._update_cards(event.review_id)
            elif isinstance(event, RegistrationDecided):
                await self._tell_applicant(event)
            elif isinstance(event, RoleGranted):
                await self._welcome_staff(event.user_id)
            for area in AREA_HANDLERS:
                handler = area.get(type(event))
                if handler is not None:
                    await handler(self, event)

    async def tell(
        self,
        user_id: int,
        render: Callable[[], tuple[str, ReplyMarkup | None]],
    ) -> Message | None:
        """Send one message rendered in the recipient's language; None if it cannot arrive.

        A user who blocked the bot (403) is marked unreachable instead of failing the caller.
        """
        user = await User.get_or_none(id=user_id)
        if user is None:
            return None
        with use_locale(locale_of(user)):
            text, markup = render()
            try:
                return await self.bot.send_message(user_id, text, reply_markup=markup)
            except Forbidden as error:
                log.info("message to %s not delivered: %s", user_id, error)
                await mark_unreachable(user_id)
            except BadRequest as error:
                log.info("message to %s not delivered: %s", user_id, error)
        return None

    async def _send_cards(self, review_id: int) -> None:
        target = await Review.get(id=review_id)
        for reviewer in await review.reviewers_for(target.stage):
            with use_locale(locale_of(reviewer)):
                try:
                    await send_card(self.bot, self.platform, self.timezone, reviewer.id, review_id)
                except (Forbidden, BadRequest) as error:
                    # Not started yet (or blocked): they get the card when they /start.
                    log.info(
                        "review card %s not delivered to %s: %s", review_id, reviewer.id, error
                    )

    async def _update_cards(self, review_id: int) -> None:
        for copy in await review.cards_of(review_id):
            reviewer = await User.get_or_none(id=copy.reviewer_id)
            with use_locale(locale_of(reviewer) if reviewer else "zh_CN"):
                try:
                    await edit_card(
                        self.bot,
                        self.platform,
                        self.timezone,
                        copy.reviewer_id,
                        copy.message_id,
                        review_id,
                    )
                except BadRequest as error:
                    # Deleted by the reviewer, or already showing the decision.
                    log.info("card %s in %s not edited: %s", review_id, copy.reviewer_id, error)
                except Forbidden as error:
                    log.info("card %s in %s not edited: %s", review_id, copy.reviewer_id, error)

    async def _tell_applicant(self, event: RegistrationDecided) -> None:
        user = await User.get(id=event.user_id)
        with use_locale(locale_of(user)):
            if event.approved:
                text = t(
                    "registration.approved", reference=event.reference, role=t(f"role.{user.role}")
                )
            else:
                reason = reason_text(event.reason, self.platform, locale_of(user))
                text = t("registration.rejected", reference=event.reference, reason=reason)
            try:
                await self.bot.send_message(user.id, text)
            except Forbidden as error:
                log.info("applicant %s not told: %s", user.id, error)
                await mark_unreachable(user.id)
        await self.refresh_menu(user)

    async def _welcome_staff(self, user_id: int) -> None:
        user = await User.get(id=user_id)
        await self.refresh_menu(user)
        with use_locale(locale_of(user)):
            for review_id in await review.undelivered_cards(user):
                try:
                    await send_card(self.bot, self.platform, self.timezone, user.id, review_id)
                except (Forbidden, BadRequest) as error:
                    log.info("card %s not delivered to %s: %s", review_id, user.id, error)

    async def refresh_menu(self, user: User) -> None:
        """The user's own command menu: their role's commands, in their language."""
        role = user.role if user.status is UserStatus.ACTIVE else None
        with use_locale(locale_of(user)):
            try:
                await self.bot.set_my_commands(
                    commands_for(role), scope=BotCommandScopeChat(user.id)
                )
            except TelegramError as error:
                log.info("menu of %s not set: %s", user.id, error)

    async def set_default_menus(self) -> None:
        """Menus for people the bot does not know yet, per language (zh first)."""
        with use_locale("zh_CN"):
            await self.bot.set_my_commands(
                commands_for(None), scope=BotCommandScopeAllPrivateChats()
            )
        for locale, code in MENU_LANGUAGES.items():
            with use_locale(locale):
                await self.bot.set_my_commands(
                    commands_for(None), scope=BotCommandScopeAllPrivateChats(), language_code=code
                )
