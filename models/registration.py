"""Registration of enterprises, research teams and institutions (Rugao art. 9-10).

Which answers each role owes, how each answer is checked, and what approval does.
Every answer is checked again on submit: a draft kept across a restart or a
configuration change is never trusted.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tortoise.transactions import in_transaction

from models import audit
from models.credit_code import normalise_credit_code
from models.entities import (
    SELF_SERVICE_ROLES,
    InstitutionTier,
    Organization,
    OrgKind,
    OrgStatus,
    Registration,
    RegistrationStatus,
    Review,
    Role,
    User,
    UserStatus,
)
from models.errors import InvalidTransition, ValidationFailed
from models.events import Event, RegistrationDecided, ReviewRequested
from models.phone import normalise_phone
from models.platform import PlatformConfig

SUBJECT = "registration"
NAME_MAX = 40
ORG_NAME_MAX = 60
_NAME_PUNCTUATION = set(" ·.-'")


class Field(StrEnum):
    """The answers of a registration, in the order they are asked."""

    ROLE = "role"
    NAME = "real_name"
    PHONE = "phone"
    ORG = "org_name"
    CODE = "credit_code"
    TOWNSHIP = "township"
    FIELDS = "service_fields"


_STEPS: dict[Role, tuple[Field, ...]] = {
    Role.ENTERPRISE: (Field.ROLE, Field.NAME, Field.PHONE, Field.ORG, Field.CODE, Field.TOWNSHIP),
    Role.INSTITUTION: (Field.ROLE, Field.NAME, Field.PHONE, Field.ORG, Field.CODE, Field.FIELDS),
    Role.RESEARCH: (Field.ROLE, Field.NAME, Field.PHONE, Field.ORG),
}


def steps_for(role: Role | None) -> tuple[Field, ...]:
    """The questions for a role; before the role is known, the longest path is assumed."""
    return _STEPS.get(role, _STEPS[Role.ENTERPRISE]) if role else _STEPS[Role.ENTERPRISE]


def parse_role(raw: str) -> Role:
    """A self-service role; staff roles come only from invites."""
    try:
        role = Role(raw)
    except ValueError:
        raise ValidationFailed("role.unknown") from None
    if role not in SELF_SERVICE_ROLES:
        raise ValidationFailed("role.unknown")
    return role


def _single_line(raw: str) -> str:
    return " ".join(raw.split())


def check_real_name(raw: str) -> str:
    """A person's name: letters (any script), spaces, middle dot, hyphen, apostrophe."""
    name = _single_line(unicodedata.normalize("NFKC", raw))
    if not 2 <= len(name) <= NAME_MAX:
        raise ValidationFailed("name.length", max=NAME_MAX)
    if not all(ch.isalpha() or ch in _NAME_PUNCTUATION for ch in name):
        raise ValidationFailed("name.characters")
    return name


def check_org_name(raw: str) -> str:
    """An organisation's registered name, on one line."""
    name = _single_line(unicodedata.normalize("NFKC", raw))
    if not 2 <= len(name) <= ORG_NAME_MAX:
        raise ValidationFailed("org_name.length", max=ORG_NAME_MAX)
    if not any(ch.isalpha() for ch in name) or any(
        unicodedata.category(ch).startswith(("C", "So")) for ch in name
    ):
        raise ValidationFailed("org_name.characters")
    return name


def check_township(code: str, platform: PlatformConfig) -> str:
    """A township of the platform's configuration."""
    if platform.township(code) is None:
        raise ValidationFailed("township.unknown")
    return code


def check_service_fields(codes: list[str], platform: PlatformConfig) -> list[str]:
    """At least one configured service category, each once, in configuration order."""
    known = [c.code for c in platform.categories]
    if not codes:
        raise ValidationFailed("service_fields.empty")
    if any(code not in known for code in codes):
        raise ValidationFailed("service_fields.unknown")
    return [code for code in known if code in codes]


def check_answer(field: Field, value: Any, platform: PlatformConfig) -> Any:
    """Check and normalise one answer; raise ValidationFailed with the reason."""
    if field is Field.ROLE:
        return parse_role(str(value)).value
    if field is Field.NAME:
        return check_real_name(str(value))
    if field is Field.PHONE:
        return normalise_phone(str(value))
    if field is Field.ORG:
        return check_org_name(str(value))
    if field is Field.CODE:
        return normalise_credit_code(str(value))
    if field is Field.TOWNSHIP:
        return check_township(str(value), platform)
    if not isinstance(value, list):
        raise ValidationFailed("service_fields.empty")
    return check_service_fields([str(v) for v in value], platform)


def first_missing(draft: dict[str, Any]) -> Field | None:
    """The first question of the role's path not yet answered; None when complete."""
    role = Role(draft[Field.ROLE]) if draft.get(Field.ROLE) else None
    return next((f for f in steps_for(role) if draft.get(f) in (None, "", [])), None)


@dataclass(frozen=True)
class Submitted:
    """The outcome of submitting: the application and what to notify."""

    registration: Registration
    events: list[Event]


async def submit(user_id: int, draft: dict[str, Any], platform: PlatformConfig) -> Submitted:
    """Turn a complete draft into an application waiting for the first review stage."""
    role = parse_role(str(draft.get(Field.ROLE, "")))
    answers = {f: check_answer(f, draft.get(f), platform) for f in steps_for(role)}
    async with in_transaction():
        user = await User.select_for_update().get(id=user_id)
        if user.status is UserStatus.ACTIVE:
            raise InvalidTransition("registration.already_active")
        if await Registration.exists(user_id=user_id, status=RegistrationStatus.SUBMITTED):
            raise InvalidTransition("registration.already_pending")
        registration = await Registration.create(
            user_id=user_id,
            role=role,
            real_name=answers[Field.NAME],
            phone=answers[Field.PHONE],
            org_name=answers[Field.ORG],
            credit_code=answers.get(Field.CODE),
            township=answers.get(Field.TOWNSHIP),
            service_fields=answers.get(Field.FIELDS, []),
        )
        review = await Review.create(
            subject_type=SUBJECT,
            subject_id=registration.id,
            stage=platform.review.registration_stages[0],
        )
        if user.status is not UserStatus.PENDING:
            user.status = UserStatus.PENDING
            await user.save(update_fields=["status", "updated_at"])
        await audit.record(
            user_id,
            "registration.submitted",
            SUBJECT,
            registration.id,
            after={"role": role, "review": review.id},
        )
    return Submitted(registration, [ReviewRequested(review.id)])


async def _organization_for(registration: Registration) -> Organization:
    # One organisation per credit code: a second employee joins the first one's record.
    kind = OrgKind(registration.role.value)
    if registration.credit_code:
        existing = await Organization.get_or_none(credit_code=registration.credit_code)
        if existing is not None:
            return existing
    else:
        existing = await Organization.get_or_none(kind=kind, name=registration.org_name)
        if existing is not None:
            return existing
    return await Organization.create(
        name=registration.org_name,
        kind=kind,
        credit_code=registration.credit_code,
        township=registration.township,
        service_fields=registration.service_fields,
        tier=InstitutionTier.CULTIVATING if kind is OrgKind.INSTITUTION else None,
        status=OrgStatus.ACTIVE,
    )


async def conclude(
    registration_id: int, approved: bool, reason: str | None, actor_id: int
) -> list[Event]:
    """Apply the final decision on an application (call inside the review's transaction)."""
    registration = await Registration.get(id=registration_id)
    if registration.status is not RegistrationStatus.SUBMITTED:
        raise InvalidTransition("registration.not_submitted")
    user = await User.get(id=registration.user_id)
    before = {"role": user.role, "status": user.status}
    if approved:
        organization = await _organization_for(registration)
        if organization.status is OrgStatus.PENDING:
            organization.status = OrgStatus.ACTIVE
            await organization.save(update_fields=["status"])
        user.role, user.status = registration.role, UserStatus.ACTIVE
        user.real_name, user.phone = registration.real_name, registration.phone
        user.organization_id = organization.id
        user.township = registration.township
    else:
        user.status = UserStatus.REJECTED
    registration.status = RegistrationStatus.APPROVED if approved else RegistrationStatus.REJECTED
    await registration.save(update_fields=["status"])
    await user.save()
    await audit.record(
        actor_id,
        "registration.approved" if approved else "registration.rejected",
        SUBJECT,
        registration.id,
        before=before,
        after={"role": user.role, "status": user.status, "reason": reason},
    )
    return [RegistrationDecided(user.id, registration.reference, approved, reason)]
