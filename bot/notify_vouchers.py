"""Notifications of innovation vouchers: each side hears of what the other side or a reviewer
did (Shenyang art. 7, Rugao art. 12(4)), in its own language, with the voucher's reference."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from telegram import InlineKeyboardMarkup

from handlers.vouchers_views import money
from locales.i18n import t
from models import matching, vouchers
from models.entities import Organization, Role, User, UserStatus
from models.events import VoucherChanged

if TYPE_CHECKING:
    from bot.notifier import TelegramNotifier

# Who hears of each step besides the one who took it: the enterprise, the institution, both.
AUDIENCE = {
    "applied": ("institution",),
    "withdrawn": ("institution",),
    "redeem_requested": ("enterprise",),
    "granted": ("enterprise", "institution"),
    "refused": ("enterprise", "institution"),
    "redeemed": ("enterprise", "institution"),
    "redemption_refused": ("enterprise", "institution"),
}


async def on_voucher_changed(notifier: TelegramNotifier, event: VoucherChanged) -> None:
    """Tell the sides concerned, never the person who acted."""
    voucher = await vouchers.get(event.voucher_id)
    enterprise = await Organization.get(id=voucher.enterprise_id)
    institution = await Organization.get(id=voucher.institution_id)
    recipients: list[User] = []
    for side in AUDIENCE.get(event.action, ()):
        if side == "enterprise":
            recipients += await User.filter(
                organization_id=enterprise.id, role=Role.ENTERPRISE, status=UserStatus.ACTIVE
            ).order_by("id")
        else:
            recipients += await matching.contacts(institution.id)

    def render() -> tuple[str, InlineKeyboardMarkup | None]:
        params: dict[str, Any] = {
            "reference": voucher.reference,
            "enterprise": enterprise.name,
            "institution": institution.name,
            "requested": money(voucher.amount_requested),
            "amount": money(voucher.amount_granted),
            "reason": voucher.reason or "—",
        }
        return t(f"voucher.told.{event.action}", **params), None

    for user in recipients:
        if user.id != event.actor_id:
            await notifier.tell(user.id, render)


HANDLERS: dict[type, Any] = {VoucherChanged: on_voucher_changed}
