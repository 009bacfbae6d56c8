"""What vouchers look like in the chat: review cards, lists, the ledger, the apply summary."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from locales.i18n import current_locale, t
from models.entities import ReviewStatus
from models.voucher_decisions import VoucherCard
from models.voucher_entities import Voucher, VoucherStatus
from models.vouchers import COUNTED, PURPOSE_MAX, PURPOSE_MIN, Ledger

APPLY_FLOW = "voucher_apply"
GRANT_FLOW = "voucher_grant"
VERSION = 1
AMOUNT, PURPOSE, CONFIRM = "amount", "purpose", "confirm"

DYNAMIC_IDS = (
    *(f"voucher.status.{status.value}" for status in VoucherStatus),
    *(
        f"voucher.told.{action}"
        for action in (
            "applied",
            "granted",
            "refused",
            "withdrawn",
            "redeem_requested",
            "redeemed",
            "redemption_refused",
        )
    ),
    "voucher.ask.amount",
    "voucher.ask.amount_limit",
    "voucher.ask.purpose",
)


def money(amount: Decimal | None) -> str:
    """An amount in yuan, in the current locale."""
    if amount is None:
        return "—"
    shown = format_decimal(amount, format="#,##0.00", locale=current_locale())
    return t("voucher.yuan", amount=shown)


def status_label(status: VoucherStatus) -> str:
    """A voucher status in the current language."""
    return t(f"voucher.status.{status.value}")


def voucher_card_lines(card: VoucherCard, locale: str) -> list[str]:
    """A reviewer card for an application or a redemption."""
    voucher = card.voucher
    title = "voucher.card.redemption" if card.redemption else "voucher.card.application"
    lines = [
        t(title, reference=voucher.reference),
        t(
            "voucher.card.body",
            demand=f"{card.demand.reference} {card.demand.title}",
            enterprise=card.enterprise_name,
            institution=card.institution_name,
            contract=money(card.contract_amount),
            requested=money(voucher.amount_requested),
            purpose=voucher.purpose,
            year=voucher.year,
        ),
    ]
    if voucher.amount_granted is not None:
        lines.append(t("voucher.card.granted", amount=money(voucher.amount_granted)))
    if card.redemption:
        lines.append(t("voucher.card.redemption_basis"))
    return lines


def voucher_card_markup(card: VoucherCard) -> InlineKeyboardMarkup | None:
    """Grant (a typed amount) / Refuse, or Redeem / Refuse, while the review waits."""
    if card.review.status is not ReviewStatus.PENDING:
        return None
    review_id = card.review.id
    first = (
        InlineKeyboardButton(t("voucher.button.redeem_ok"), callback_data=f"rv:a:{review_id}")
        if card.redemption
        else InlineKeyboardButton(t("voucher.button.grant"), callback_data=f"vc:g:{review_id}")
    )
    refuse = InlineKeyboardButton(t("voucher.button.refuse"), callback_data=f"rv:r:{review_id}")
    return InlineKeyboardMarkup([[first, refuse]])


def grant_prompt(review_id: int, voucher: Voucher) -> tuple[str, InlineKeyboardMarkup]:
    """Ask the reviewer for the amount to grant; the requested one is a button."""
    text = t(
        "voucher.ask_grant", reference=voucher.reference, requested=money(voucher.amount_requested)
    )
    rows = [
        [
            InlineKeyboardButton(
                t("voucher.button.grant_requested", amount=money(voucher.amount_requested)),
                callback_data=f"vc:gr:{review_id}",
            )
        ],
        [InlineKeyboardButton(t("button.cancel"), callback_data="vc:x")],
    ]
    return text, InlineKeyboardMarkup(rows)


def voucher_line(voucher: Voucher) -> str:
    """One voucher in a list: reference, amount, status, and a refusal reason if any."""
    text = t(
        "voucher.line",
        reference=voucher.reference,
        requested=money(voucher.amount_requested),
        granted=money(voucher.amount_granted),
        status=status_label(voucher.status),
    )
    if voucher.reason and voucher.status in (VoucherStatus.REFUSED, VoucherStatus.GRANTED):
        text += "\n" + t("voucher.line_reason", reason=voucher.reason)
    return text


def ledger_text(ledger: Ledger, name: str) -> str:
    """The yearly ledger: count and total per status, what counts against the cap, the room."""
    lines = [t("voucher.ledger.title", name=name, year=ledger.year)]
    for status, (count, total) in ledger.totals.items():
        if count:
            lines.append(
                t(
                    "voucher.ledger.row",
                    status=status_label(status),
                    count=count,
                    total=money(total),
                )
            )
    lines.append(
        t(
            "voucher.ledger.cap",
            used=money(ledger.used),
            cap=money(ledger.cap),
            room=money(ledger.room),
            counted="/".join(status_label(s) for s in COUNTED),
        )
    )
    if ledger.reward is not None:
        lines.append(
            t(
                "voucher.ledger.reward",
                total=money(ledger.reward.service_total),
                ceiling=money(ledger.reward.ceiling),
            )
        )
    return "\n".join(lines)


def step_markup(back: bool) -> InlineKeyboardMarkup:
    """Back (when there is a step before) and Cancel under a typed step."""
    row = [InlineKeyboardButton(t("button.back"), callback_data="vc:b")] if back else []
    row.append(InlineKeyboardButton(t("button.cancel"), callback_data="vc:x"))
    return InlineKeyboardMarkup([row])


def ask_text(state: str, data: dict[str, Any]) -> str:
    """The question of an apply step, with "step n of 3"."""
    step = {AMOUNT: 1, PURPOSE: 2}.get(state, 3)
    head = t("voucher.step", n=step, reference=str(data.get("reference", "")))
    if state == AMOUNT:
        limit = data.get("limit")
        key = "voucher.ask.amount_limit" if limit else "voucher.ask.amount"
        return f"{head}\n{t(key, limit=money(Decimal(limit)) if limit else '')}"
    return f"{head}\n{t('voucher.ask.purpose', min=PURPOSE_MIN, max=PURPOSE_MAX)}"


def summary(data: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup]:
    """The application before it is sent: Confirm, Back, Cancel."""
    text = t(
        "voucher.summary",
        reference=str(data.get("reference", "")),
        institution=str(data.get("institution", "")),
        amount=money(Decimal(str(data.get("amount", "0")))),
        purpose=str(data.get("purpose", "")),
    )
    rows = [
        [InlineKeyboardButton(t("voucher.button.confirm"), callback_data="vc:c")],
        [
            InlineKeyboardButton(t("button.back"), callback_data="vc:b"),
            InlineKeyboardButton(t("button.cancel"), callback_data="vc:x"),
        ],
    ]
    return f"{t('voucher.step', n=3, reference=str(data.get('reference', '')))}\n{text}", (
        InlineKeyboardMarkup(rows)
    )
