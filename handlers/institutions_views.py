"""What admins and users see of institution tiers, notices, objections and sanctions."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from locales.i18n import t
from models import revocation, tiers
from models.entities import InstitutionTier, Organization, OrgStatus
from models.institution_entities import ObjectionStatus, SanctionKind, TierObjection
from models.users import display_name

DYNAMIC_IDS = (
    *(f"inst.tier.{tier.value}" for tier in InstitutionTier),
    *(f"inst.status.{status.value}" for status in OrgStatus),
    *(f"inst.kind.{kind.value}" for kind in SanctionKind),
    *(f"inst.done.{kind.value}" for kind in SanctionKind),
    *(f"inst.told.{kind.value}" for kind in SanctionKind),
    *(f"revoke.reason.{code}" for code in revocation.REASONS),
    *(f"objection.status.{status.value}" for status in ObjectionStatus),
    "objection.outcome.upheld",
    "objection.outcome.dismissed",
    "inst.told.raised",
    "inst.told.lowered",
    "inst.promote",
    "inst.demote",
    "revoke.ask_other",
    "revoke.ask_note",
    "notice.told_rep",
    "notice.told_admin",
    "notice.effective",
    "notice.cancelled",
)


def tier_label(tier: InstitutionTier | str | None) -> str:
    """The tier's name in the current language."""
    value = tier.value if isinstance(tier, InstitutionTier) else tier
    return t(f"inst.tier.{value or InstitutionTier.CULTIVATING.value}")


def reason_label(code: str | None, other: str | None) -> str:
    """A sanction's ground: the article item, or the free reason of "other"."""
    if code == revocation.OTHER and other:
        return other
    return t(f"revoke.reason.{code}") if code in revocation.REASONS else ""


def list_markup(orgs: list[Organization]) -> InlineKeyboardMarkup:
    """One button per institution: its name, tier and status."""
    rows = [
        [
            InlineKeyboardButton(
                t(
                    "inst.list_item",
                    name=org.name,
                    tier=tier_label(org.tier),
                    status=t(f"inst.status.{org.status.value}"),
                ),
                callback_data=f"in:o:{org.id}",
            )
        ]
        for org in orgs
    ]
    return InlineKeyboardMarkup(rows)


async def institution_card(org: Organization) -> tuple[str, InlineKeyboardMarkup | None]:
    """An institution as an admin manages it: tier, status, notice, last sanction, buttons."""
    lines = [
        t(
            "inst.card",
            name=org.name,
            code=org.credit_code or "—",
            tier=tier_label(org.tier),
            status=t(f"inst.status.{org.status.value}"),
        )
    ]
    notice = await tiers.open_notice(org.id)
    if notice is not None:
        lines.append(
            t(
                "inst.card_notice",
                reference=notice.reference,
                tier=tier_label(notice.to_tier),
                until=notice.notice_ends_on.isoformat(),
            )
        )
    last = await revocation.latest(org.id)
    if last is not None and last.kind is not SanctionKind.REINSTATE:
        lines.append(
            t(
                "inst.card_sanction",
                kind=t(f"inst.kind.{last.kind.value}"),
                reason=reason_label(last.reason_code, last.reason),
                note=last.note,
            )
        )
    rows: list[list[InlineKeyboardButton]] = []
    if notice is None:
        for target in tiers.targets(org):
            up = tiers.ORDER.index(target) > tiers.ORDER.index(tiers.tier_of(org))
            label = t("inst.promote" if up else "inst.demote", tier=tier_label(target))
            rows.append(
                [InlineKeyboardButton(label, callback_data=f"in:t:{org.id}:{target.value}")]
            )
    kinds = revocation.kinds_from(org.status)
    row = [
        InlineKeyboardButton(t(f"inst.kind.{kind.value}"), callback_data=_kind_data(org, kind))
        for kind in kinds
    ]
    if row:
        rows.append(row)
    return "\n".join(lines), InlineKeyboardMarkup(rows) if rows else None


def _kind_data(org: Organization, kind: SanctionKind) -> str:
    if kind is SanctionKind.REINSTATE:
        return f"in:a:{org.id}"
    return f"in:s:{org.id}:{kind.value}"


def reasons_markup(org_id: int, kind: str) -> InlineKeyboardMarkup:
    """The grounds of Rugao art. 21, one per row, and Back to the card."""
    rows = [
        [
            InlineKeyboardButton(
                t(f"revoke.reason.{code}"), callback_data=f"in:r:{org_id}:{kind}:{code}"
            )
        ]
        for code in revocation.REASONS
    ]
    rows.append([InlineKeyboardButton(t("button.back"), callback_data=f"in:o:{org_id}")])
    return InlineKeyboardMarkup(rows)


def objection_card(objection: TierObjection) -> tuple[str, InlineKeyboardMarkup | None]:
    """What an admin sees of an objection; an open one carries Uphold / Dismiss."""
    promotion = objection.promotion
    text = t(
        "objection.card",
        reference=objection.reference,
        notice=promotion.reference,
        institution=promotion.organization.name,
        tier=tier_label(promotion.to_tier),
        objector=display_name(objection.objector),
        reason=objection.reason,
        status=t(f"objection.status.{objection.status.value}"),
    )
    if objection.status is not ObjectionStatus.OPEN:
        decider = display_name(objection.decided_by) if objection.decided_by else "—"
        return f"{text}\n{t('objection.decided_by', name=decider)}", None
    buttons = [
        InlineKeyboardButton(t("objection.uphold"), callback_data=f"in:u:{objection.id}"),
        InlineKeyboardButton(t("objection.dismiss"), callback_data=f"in:x:{objection.id}"),
    ]
    return text, InlineKeyboardMarkup([buttons])
