"""The table of who may do what (models/permissions.py) against DESIGN §1, role by role.

The expectation is written out here independently, so that widening the table (a role that
may suddenly resolve disputes) fails a test; the outsider tests in test_authorisation.py
check that the domain really asks the table.
"""

from __future__ import annotations

import pytest

from models import permissions
from models.entities import Role, User, UserStatus
from models.errors import NotAllowed

E, RS, IN, A, RV, P, AD = (
    Role.ENTERPRISE,
    Role.RESEARCH,
    Role.INSTITUTION,
    Role.ASSISTANT,
    Role.REVIEWER,
    Role.PUBLISHER,
    Role.ADMIN,
)
EXPECTED: dict[str, set[Role]] = {
    "demand.submit": {E, A},
    "demand.relay": {A},
    "demand.take_over": {E},
    "demand.act_for_owner": {E, A},
    "demand.browse": {IN, RS},
    "township.follow": {A},
    "intent.offer": {IN, RS},
    "engagement.act": {E, A, IN, RS},
    "engagement.deliver": {IN, RS},
    "engagement.complete": {E, A},
    "engagement.dispute": {E, A},
    "feedback.give": {E, A},
    "report.filing": {IN, RS},
    "complaint.file": {E, A},
    "complaint.decide": {AD},
    "dispute.resolve": {AD},
    "review.reviewer": {RV, AD},
    "review.publisher": {P, AD},
    "report.annual": {IN},
    "invite.create": {AD},
    "reminders.log": {AD},
    "institution.tier": {AD},
    "institution.revoke": {AD},
    "tier.object": set(Role),
    "objection.decide": {AD},
    "voucher.apply": {E},
    "voucher.withdraw": {E},
    "voucher.redeem": {IN},
    "voucher.decide": {RV, AD},
    "voucher.ledger": {E, IN},
    "stats.view": {AD},
    "export.masked": {AD},
    "export.full": {AD},
    "evaluation.run": {AD},
    "evaluation.own": {IN},
    "broadcast.send": {AD},
    "dashboard.open": {RV, AD},
    "apitoken.manage": {AD},
    "listing.write": {IN, RS},
    "listing.manage": {IN, RS},
    "catalog.browse": set(Role),
    "listing.request": {E},
    "listing.answer": {IN, RS},
}


def _user(role: Role | None, status: UserStatus = UserStatus.ACTIVE) -> User:
    return User(id=1, first_name="x", role=role, status=status)


def test_the_table_names_every_action_once_as_expected() -> None:
    assert set(permissions.TABLE) == set(EXPECTED)


@pytest.mark.parametrize("action", sorted(EXPECTED))
@pytest.mark.parametrize("role", [*Role, None])
def test_each_role_may_do_exactly_what_design_says(action: str, role: Role | None) -> None:
    assert permissions.allowed(action, _user(role)) is (role in EXPECTED[action])


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_a_relation_is_needed_where_the_record_matters(action: str) -> None:
    rule = permissions.TABLE[action]
    member = _user(next(iter(sorted(rule.roles))))
    needs = rule.relation is not permissions.Relation.NONE
    assert permissions.allowed(action, member, related=False) is not needs
    with pytest.raises(NotAllowed) as refused:
        permissions.require(action, _user(member.role, UserStatus.SUSPENDED))
    assert refused.value.message_id == rule.refusal


@pytest.mark.parametrize("status", [UserStatus.PENDING, UserStatus.REJECTED, UserStatus.SUSPENDED])
def test_nobody_but_the_active_may_do_anything(status: UserStatus) -> None:
    assert not any(
        permissions.allowed(action, _user(role, status)) for action in EXPECTED for role in Role
    )


def test_an_unknown_action_is_refused_as_forged() -> None:
    assert not permissions.allowed("demand.delete_everything", _user(Role.ADMIN))
    with pytest.raises(NotAllowed) as refused:
        permissions.require("demand.delete_everything", _user(Role.ADMIN))
    assert refused.value.message_id == "button.forged"
