"""Suspension, revocation and reinstatement of institutions (Rugao art. 21).

    active -> suspended | revoked
    suspended -> active (reinstated) | revoked
    revoked: final

An admin cites one of the seven grounds of Rugao art. 21 or "other" with a free reason,
plus a note. A suspended or revoked institution receives no demands and may not offer help
(models/matching.recommend and models/market.serving_institution ask for an active
organisation); its open engagements are listed to the admins. Compare-and-set, audited.
"""

from __future__ import annotations

from tortoise.transactions import in_transaction

from models import audit, permissions, tiers
from models.demand_entities import Demand, DemandStatus
from models.entities import Organization, OrgKind, OrgStatus, User
from models.errors import InvalidTransition, NotFound, ValidationFailed
from models.events import Event, InstitutionSanctioned
from models.institution_entities import Sanction, SanctionKind

# Rugao art. 21 (一)-(七), in its order, then a free reason.
REASONS = (
    "incapable",  # (一) major business problems, cannot serve normally
    "impersonation",  # (二) acting in the name of a government body or other organisation
    "unfair_competition",  # (三) misleading or deceiving users
    "false_information",  # (四) false registration or service information
    "non_compliance",  # (五) refuses platform management or to submit reports
    "data_leak",  # (六) leaks user information or profits from it
    "serious_violation",  # (七) serious breach of the rules or of the law
    "other",
)
OTHER = "other"
TEXT_MIN = 5
TEXT_MAX = 500
S = OrgStatus
TARGET = {
    SanctionKind.SUSPEND: S.SUSPENDED,
    SanctionKind.REVOKE: S.REVOKED,
    SanctionKind.REINSTATE: S.ACTIVE,
}
TRANSITIONS: dict[OrgStatus, frozenset[OrgStatus]] = {
    S.ACTIVE: frozenset({S.SUSPENDED, S.REVOKED}),
    S.SUSPENDED: frozenset({S.ACTIVE, S.REVOKED}),
    S.REVOKED: frozenset(),
    S.PENDING: frozenset(),  # not yet approved: nothing to suspend
}
# Engagements an admin must look after when their institution stops serving.
OPEN_ENGAGEMENT = (
    DemandStatus.MATCHED,
    DemandStatus.CONTRACTED,
    DemandStatus.DELIVERED,
    DemandStatus.DISPUTED,
)


def kinds_from(status: OrgStatus) -> list[SanctionKind]:
    """What an admin may do to an institution in this status."""
    return [kind for kind, target in TARGET.items() if target in TRANSITIONS[status]]


def check_text(raw: str) -> str:
    """A reason or a note, 5 to 500 characters."""
    text = raw.strip() if isinstance(raw, str) else ""
    if len(text) < TEXT_MIN:
        raise ValidationFailed("demand.too_short", min=TEXT_MIN)
    if len(text) > TEXT_MAX:
        raise ValidationFailed("demand.too_long", max=TEXT_MAX, length=len(text))
    return text


async def open_engagements(org_id: int) -> list[str]:
    """References of the demands matched with this institution and not finished."""
    demands = await Demand.filter(
        matched_institution_id=org_id, status__in=list(OPEN_ENGAGEMENT)
    ).order_by("id")
    return [demand.reference for demand in demands]


async def apply(
    admin: User,
    org_id: int,
    kind: SanctionKind,
    *,
    reason_code: str | None = None,
    reason: str | None = None,
    note: str = "",
) -> tuple[Organization, list[Event]]:
    """Suspend, revoke or reinstate an institution; the stored status must allow it."""
    permissions.require("institution.revoke", admin)
    if kind is not SanctionKind.REINSTATE:
        if reason_code not in REASONS:
            raise ValidationFailed("revoke.reason_unknown")
        reason = check_text(reason or "") if reason_code == OTHER else None
        note = check_text(note)
    else:
        reason_code, reason, note = None, None, note.strip()[:TEXT_MAX]
    target = TARGET[kind]
    events: list[Event] = []
    async with in_transaction():
        found = await Organization.filter(id=org_id, kind=OrgKind.INSTITUTION).select_for_update()
        if not found:
            raise NotFound("institution.not_found")
        org = found[0]
        moved = target in TRANSITIONS[org.status] and await Organization.filter(
            id=org_id, status=org.status
        ).update(status=target)
        if not moved:
            raise InvalidTransition(
                "institution.invalid_transition",
                institution=org.name,
                status=org.status.value,
                kind=kind.value,
            )
        await Sanction.create(
            organization_id=org_id,
            kind=kind,
            reason_code=reason_code,
            reason=reason,
            note=note,
            actor=admin,
        )
        await audit.record(
            admin.id,
            f"institution.{target.value}",
            "organization",
            org_id,
            before={"status": org.status.value},
            after={"status": target.value, "reason": reason_code, "other": reason, "note": note},
        )
        if target is S.REVOKED:
            events += await tiers.cancel_notices_of(org_id, admin.id)
        references = () if target is S.ACTIVE else tuple(await open_engagements(org_id))
    events.insert(0, InstitutionSanctioned(org_id, kind.value, references))
    return await Organization.get(id=org_id), events


async def latest(org_id: int) -> Sanction | None:
    """The last suspension, revocation or reinstatement of an institution."""
    return await Sanction.filter(organization_id=org_id).order_by("-id").first()
