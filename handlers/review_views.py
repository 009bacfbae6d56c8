"""Review cards: what a reviewer sees, before and after the decision.

Three kinds of card share one machinery (models/review.py): registrations, demands (with
the Rugao art. 15 checklist, ticked on each reviewer's own copy) and contract filings.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.numbers import format_decimal
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from handlers.catalog_views import listing_review_lines
from handlers.vouchers_views import voucher_card_lines, voucher_card_markup
from locales.i18n import Raw, t
from models import voucher_decisions, vouchers
from models.entities import ReviewStatus
from models.phone import mask_phone
from models.platform import Label, PlatformConfig
from models.review import CHECKLIST, Card, ContractCard, DemandCard, ListingCard, RegistrationCard

REASON_PRESET = "preset:"
# A card is one Telegram message (at most 4096 characters): long descriptions are cut.
DESCRIPTION_SHOWN = 1500
SHA_SHOWN = 16
KINDS = ("registration", "demand", "contract", *vouchers.SUBJECTS, "listing")
DYNAMIC_IDS = (
    *(f"review.kind.{kind}" for kind in KINDS),
    *(f"review.check.{item}" for item in CHECKLIST),
)


def reason_text(reason: str | None, platform: PlatformConfig, locale: str) -> str:
    """A stored reason as the reader sees it: preset reasons are shown in their language."""
    if not reason:
        return "—"
    if reason.startswith(REASON_PRESET):
        code = reason.removeprefix(REASON_PRESET)
        label = next((r for r in platform.review.reject_reasons if r.code == code), None)
        return label.label(locale) if label else code
    return reason


def _line(field: str, value: str) -> str:
    return t("card.line", field=field, value=value)


def _label(found: Label | None, code: str, locale: str) -> str:
    return found.label(locale) if found else code


def _day(day: date | None) -> str:
    return day.isoformat() if day else "—"


def _registration_lines(
    card: RegistrationCard, platform: PlatformConfig, locale: str
) -> list[str]:
    application = card.registration
    lines = [
        t("card.registration.title", reference=application.reference),
        t("card.stage", stage=t(f"stage.{card.review.stage}")),
        _line(t("field.role"), t(f"role.{application.role.value}")),
        _line(t("field.real_name"), application.real_name),
        # PIPL: reviewers need to check the phone, not to call it.
        _line(t("field.phone"), mask_phone(application.phone)),
        _line(t("field.org_name"), application.org_name),
    ]
    if application.credit_code:
        lines.append(_line(t("field.credit_code"), application.credit_code))
    if application.township:
        town = platform.township(application.township)
        lines.append(_line(t("field.township"), _label(town, application.township, locale)))
    if application.service_fields:
        labels = [
            c.label(locale) for c in platform.categories if c.code in application.service_fields
        ]
        lines.append(_line(t("field.service_fields"), ", ".join(labels)))
    return lines


def _demand_lines(card: DemandCard, platform: PlatformConfig, locale: str) -> list[str]:
    demand = card.demand
    description = demand.description
    if len(description) > DESCRIPTION_SHOWN:
        description = description[:DESCRIPTION_SHOWN].rstrip() + "…"
    lines = [
        t("review.card.demand_title", reference=demand.reference),
        t("card.stage", stage=t(f"stage.{card.review.stage}")),
        _line(t("review.field.title"), demand.title),
        _line(
            t("review.field.category"),
            _label(platform.category(demand.category), demand.category, locale),
        ),
        _line(
            t("review.field.budget"), _label(platform.budget(demand.budget), demand.budget, locale)
        ),
        _line(t("review.field.wanted_by"), _day(demand.wanted_by)),
        _line(
            t("field.township"),
            _label(platform.township(demand.township), demand.township, locale),
        ),
        _line(t("review.field.owner"), card.owner_name),
    ]
    if card.relayed_by:
        lines.append(_line(t("review.field.relayed_by"), card.relayed_by))
    lines.append(_line(t("review.field.attachments"), str(len(demand.attachments))))
    lines.append(t("review.field.description", description=description))
    if card.review.status is ReviewStatus.PENDING:
        lines += ["", t("review.checklist_hint")]
    return lines


def _amount(amount: Decimal | None, locale: str) -> str:
    if amount is None:
        return "—"
    return t("review.yuan", amount=format_decimal(amount, format="#,##0.00", locale=locale))


def _contract_lines(card: ContractCard, locale: str) -> list[str]:
    engagement = card.engagement
    sha = engagement.contract_sha256
    return [
        t("review.card.contract_title", reference=card.reference),
        t("card.stage", stage=t(f"stage.{card.review.stage}")),
        _line(t("review.field.demand"), f"{card.reference} {card.demand.title}"),
        _line(t("review.field.institution"), card.institution_name),
        _line(t("review.field.amount"), _amount(engagement.amount, locale)),
        _line(t("review.field.signed_on"), _day(engagement.signed_on)),
        _line(t("review.field.voucher"), t("review.yes" if engagement.voucher else "review.no")),
        _line(t("review.field.sha256"), f"{sha[:SHA_SHOWN]}…" if sha else "—"),
        _line(t("review.field.filing_due"), _day(engagement.filing_due)),
    ]


def _outcome_lines(card: Card, platform: PlatformConfig, locale: str, tz: str) -> list[str]:
    review = card.review
    if review.status is ReviewStatus.CANCELLED:
        return ["", t("review.card.withdrawn")]
    if review.status is ReviewStatus.PENDING or review.decided_at is None:
        return []
    when = format_datetime(
        review.decided_at, "yyyy-MM-dd HH:mm", tzinfo=ZoneInfo(tz), locale=locale
    )
    approved = review.status is ReviewStatus.APPROVED
    if isinstance(card, ContractCard):
        key = "review.card.acknowledged_by" if approved else "review.card.refused_by"
    else:
        key = "card.approved_by" if approved else "card.rejected_by"
    lines = ["", t(key, name=card.decided_by or "?", when=when)]
    if not approved:
        lines.append(t("card.reason", reason=reason_text(review.reason, platform, locale)))
    return lines


def card_text(card: Card, platform: PlatformConfig, locale: str, tz: str) -> str:
    """The card's text, with who decided (or that the owner withdrew) once it is closed."""
    if isinstance(card, RegistrationCard):
        lines = _registration_lines(card, platform, locale)
    elif isinstance(card, DemandCard):
        lines = _demand_lines(card, platform, locale)
    elif isinstance(card, voucher_decisions.VoucherCard):
        lines = voucher_card_lines(card, locale)
    elif isinstance(card, ListingCard):
        lines = listing_review_lines(card, platform, locale)
        if card.review.status is ReviewStatus.PENDING:
            lines += ["", t("review.checklist_hint")]
    else:
        lines = _contract_lines(card, locale)
    return "\n".join(lines + _outcome_lines(card, platform, locale, tz))


def card_markup(card: Card) -> InlineKeyboardMarkup | None:
    """The buttons while pending (checklist and files first); nothing once closed."""
    if card.review.status is not ReviewStatus.PENDING:
        return None
    if isinstance(card, voucher_decisions.VoucherCard):
        return voucher_card_markup(card)
    review_id = card.review.id
    rows: list[list[InlineKeyboardButton]] = []
    approve, reject = t("button.approve"), t("button.reject")
    if isinstance(card, DemandCard | ListingCard):
        for item in CHECKLIST:
            box = "☑" if item in card.ticked else "☐"
            label = f"{box} {t(f'review.check.{item}')}"
            rows.append([InlineKeyboardButton(label, callback_data=f"rv:t:{review_id}:{item}")])
        attached = card.demand if isinstance(card, DemandCard) else card.listing
        count = len(attached.attachments)
        if count:
            label = t("review.button.attachments", count=count)
            rows.append([InlineKeyboardButton(label, callback_data=f"rv:f:{review_id}")])
    elif isinstance(card, ContractCard):
        approve, reject = t("review.button.acknowledge"), t("review.button.refuse")
        if card.engagement.contract_file_id:
            label = t("review.button.contract")
            rows.append([InlineKeyboardButton(label, callback_data=f"rv:f:{review_id}")])
    rows.append(
        [
            InlineKeyboardButton(approve, callback_data=f"rv:a:{review_id}"),
            InlineKeyboardButton(reject, callback_data=f"rv:r:{review_id}"),
        ]
    )
    return InlineKeyboardMarkup(rows)


def kind_of(card: Card) -> str:
    """registration, demand, contract, voucher or voucher_redemption."""
    if isinstance(card, RegistrationCard):
        return "registration"
    if isinstance(card, voucher_decisions.VoucherCard):
        return card.review.subject_type
    if isinstance(card, ListingCard):
        return "listing"
    return "demand" if isinstance(card, DemandCard) else "contract"


def pending_label(card: Card) -> str:
    """One /pending entry: its kind, reference and who or what it is about."""
    if isinstance(card, RegistrationCard):
        about = card.registration.org_name
    elif isinstance(card, DemandCard):
        about = card.demand.title
    elif isinstance(card, voucher_decisions.VoucherCard):
        about = card.enterprise_name
    elif isinstance(card, ListingCard):
        about = card.listing.title
    else:
        about = card.institution_name
    return f"{t(f'review.kind.{kind_of(card)}')} {card.reference} · {about}"[:60]


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
