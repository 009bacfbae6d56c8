"""Relay by township science assistants (Rugao art. 4, 11(3)): the enterprises they speak
for, a new enterprise that will never open the bot itself, and the enterprise user who
takes a relayed demand over.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import audit, permissions
from models.credit_code import normalise_credit_code
from models.demand_entities import Demand
from models.demands import SUBJECT, get
from models.entities import Organization, OrgKind, OrgStatus, Role, User, UserStatus
from models.errors import InvalidTransition, NotAllowed, ValidationFailed
from models.registration import check_org_name, check_real_name


async def relay_enterprises(assistant: User) -> list[Organization]:
    """The enterprises an assistant may relay for: those of their township."""
    return await Organization.filter(
        kind=OrgKind.ENTERPRISE, township=assistant.township
    ).order_by("name")


class RelayField(StrEnum):
    """What an assistant gives of an enterprise not yet on the platform (Rugao art. 11(3))."""

    NAME = "org_name"
    CODE = "org_code"
    CONTACT = "org_contact"


def check_relay_answer(field: RelayField, raw: Any) -> str:
    """One answer about a new enterprise, checked like a registration's."""
    if not isinstance(raw, str):
        raise ValidationFailed("input.text_expected")
    if field is RelayField.NAME:
        return check_org_name(raw)
    if field is RelayField.CODE:
        return normalise_credit_code(raw)
    return check_real_name(raw)


def _may_relay(user: User) -> None:
    if user.role is Role.ASSISTANT and user.status is not UserStatus.ACTIVE:
        raise NotAllowed("demand.not_active")
    permissions.require("demand.relay", user, related=bool(user.township))


async def create_relay_enterprise(
    assistant: User, name: str, credit_code: str, contact: str
) -> Organization:
    """An enterprise of the assistant's township that will never open the bot itself.

    One organisation per credit code: an existing one is used only if it is an enterprise of
    the same township (an assistant relays for their own township only, Rugao art. 4).
    """
    _may_relay(assistant)
    name = check_relay_answer(RelayField.NAME, name)
    code = check_relay_answer(RelayField.CODE, credit_code)
    contact = check_relay_answer(RelayField.CONTACT, contact)
    existing = await Organization.get_or_none(credit_code=code)
    if existing is None:
        try:
            async with in_transaction():
                org = await Organization.create(
                    name=name,
                    kind=OrgKind.ENTERPRISE,
                    credit_code=code,
                    township=assistant.township,
                    status=OrgStatus.ACTIVE,
                )
                # No contact column on organisations: the audit row keeps who to call.
                await audit.record(
                    assistant.id,
                    "organization.relay_created",
                    "organization",
                    org.id,
                    after={"name": name, "credit_code": code, "contact": contact},
                )
            return org
        except IntegrityError:
            # Created by someone else a moment ago: judge that one like any existing.
            existing = await Organization.get(credit_code=code)
    if existing.kind is not OrgKind.ENTERPRISE or existing.township != assistant.township:
        raise NotAllowed("submit.code_elsewhere")
    return existing


async def take_over(demand_id: int, user: User) -> Demand:
    """An enterprise user takes a relayed demand over from the assistant."""
    demand = await get(demand_id)
    if user.role is Role.ENTERPRISE and user.status is not UserStatus.ACTIVE:
        raise NotAllowed("demand.not_active")
    related = user.organization_id == demand.owner_id
    permissions.require("demand.take_over", user, related=related)
    if demand.submitted_by_id == user.id:
        raise InvalidTransition("demand.already_yours", reference=demand.reference)
    async with in_transaction():
        await Demand.filter(id=demand_id).update(submitted_by_id=user.id)
        await audit.record(
            user.id,
            "demand.taken_over",
            SUBJECT,
            demand_id,
            before={"submitted_by": demand.submitted_by_id},
            after={"submitted_by": user.id},
        )
    return await Demand.get(id=demand_id)
