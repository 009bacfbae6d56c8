"""Review cards: what a reviewer sees, before and after the decision."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from locales.i18n import Raw, t
from models.entities import ReviewStatus
from models.phone import mask_phone
from models.platform import PlatformConfig
from models.review import RegistrationCard

REASON_PRESET = "preset:"


def reason_text(reason: str | None, platform: PlatformConfig, locale: str) -> str:
    """A stored reason as the reader sees it: preset reasons are shown in their language."""
    if not reason:
        return "—"
    if reason.startswith(REASON_PRESET):
        code = reason.removeprefix(REASON_PRESET)
        label = next((r for r in platform.review.reject_reasons if r.code == code), None)
        return label.label(locale) if label else code
    return reason


def card_text(card: RegistrationCard, platform: PlatformConfig, locale: str, tz: str) -> str:
    """The card's text; the phone is masked (PIPL: reviewers need to check, not to call)."""
    application = card.registration
    details = [
        t("card.registration.title", reference=application.reference),
        t("card.stage", stage=t(f"stage.{card.review.stage}")),
        t("card.line", field=t("field.role"), value=t(f"role.{application.role.value}")),
        t("card.line", field=t("field.real_name"), value=application.real_name),
        t("card.line", field=t("field.phone"), value=mask_phone(application.phone)),
        t("card.line", field=t("field.org_name"), value=application.org_name),
    ]
    if application.credit_code:
        details.append(t("card.line", field=t("field.credit_code"), value=application.credit_code))
    if application.township:
        town = platform.township(application.township)
        details.append(
            t(
                "card.line",
                field=t("field.township"),
                value=town.label(locale) if town else application.township,
            )
        )
    if application.service_fields:
        labels = [
            c.label(locale) for c in platform.categories if c.code in application.service_fields
        ]
        details.append(t("card.line", field=t("field.service_fields"), value=", ".join(labels)))
    review = card.review
    if review.status is not ReviewStatus.PENDING and review.decided_at is not None:
        when = format_datetime(
            review.decided_at, "yyyy-MM-dd HH:mm", tzinfo=ZoneInfo(tz), locale=locale
        )
        key = "card.approved_by" if review.status is ReviewStatus.APPROVED else "card.rejected_by"
        details.append("")
        details.append(t(key, name=card.decided_by or "?", when=when))
        if review.status is ReviewStatus.REJECTED:
            details.append(t("card.reason", reason=reason_text(review.reason, platform, locale)))
    return "\n".join(details)


def card_markup(card: RegistrationCard) -> InlineKeyboardMarkup | None:
    """Approve / Reject while pending; nothing once decided."""
    if card.review.status is not ReviewStatus.PENDING:
        return None
    review_id = card.review.id
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t("button.approve"), callback_data=f"rv:a:{review_id}"),
                InlineKeyboardButton(t("button.reject"), callback_data=f"rv:r:{review_id}"),
            ]
        ]
    )


def reason_prompt(
    review_id: int, reference: str, platform: PlatformConfig, locale: str
) -> tuple[str, InlineKeyboardMarkup]:
    """Ask for a rejection reason: common ones as buttons, or typed."""
    rows = [
        [InlineKeyboardButton(r.label(locale), callback_data=f"rv:why:{review_id}:{r.code}")]
        for r in platform.review.reject_reasons
    ]
    rows.append([InlineKeyboardButton(t("button.cancel"), callback_data=f"rv:keep:{review_id}")])
    return t("review.ask_reason", reference=Raw(f"<b>{reference}</b>")), InlineKeyboardMarkup(rows)
