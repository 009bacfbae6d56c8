"""Who may do what: one table of action × role × relation to the record (DESIGN §1).

The domain functions ask `require(action, user, related=…)` before they change anything, so
a handler that forgets a check, a forged button or a web form all meet the same rule. The
relation is computed by the caller from the record (is this user on the owner side of the
demand, the matched institution, …); the table says which relation the action needs.
Admins may do everything (DESIGN §1) except act as a party to someone else's engagement.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from models.entities import Role, User, UserStatus
from models.errors import NotAllowed

R = Role
OWNER_SIDE_ROLES = frozenset({R.ENTERPRISE, R.ASSISTANT})
PROVIDERS = frozenset({R.INSTITUTION, R.RESEARCH})


class Relation(StrEnum):
    """What the user must be to the record, beyond having the role."""

    NONE = "none"  # the role is enough
    OWNER_SIDE = "owner_side"  # a user of the owner enterprise, or the assistant who relayed it
    PROVIDER = "provider"  # the matched institution or research team
    PARTY = "party"  # either of the two above
    DEALT_WITH = "dealt_with"  # the institution served this user before
    OWN_TOWNSHIP = "own_township"  # the assistant of the record's township


@dataclass(frozen=True)
class Permission:
    roles: frozenset[Role]
    relation: Relation
    refusal: str  # the message id a refused user reads


def _p(roles: frozenset[Role] | set[Role], relation: Relation, refusal: str) -> Permission:
    return Permission(frozenset(roles), relation, refusal)


REL = Relation
TABLE: dict[str, Permission] = {
    # demands (Rugao art. 11-16)
    "demand.submit": _p(OWNER_SIDE_ROLES, REL.NONE, "demand.not_submitter"),
    "demand.relay": _p({R.ASSISTANT}, REL.OWN_TOWNSHIP, "demand.not_submitter"),
    "demand.take_over": _p({R.ENTERPRISE}, REL.OWNER_SIDE, "demand.not_yours"),
    # withdraw, resubmit, read and decide the offers: whoever acts for the owner
    "demand.act_for_owner": _p(OWNER_SIDE_ROLES, REL.OWNER_SIDE, "demand.not_yours"),
    "demand.browse": _p(PROVIDERS, REL.NONE, "market.browse_not_allowed"),
    "township.follow": _p({R.ASSISTANT}, REL.OWN_TOWNSHIP, "submit.township_only"),
    # the market and the engagement
    "intent.offer": _p(PROVIDERS, REL.NONE, "intent.not_institution"),
    # file the contract, see the engagement: either party
    "engagement.act": _p(OWNER_SIDE_ROLES | PROVIDERS, REL.PARTY, "demand.not_yours"),
    "engagement.deliver": _p(PROVIDERS, REL.PROVIDER, "engagement.institution_only"),
    "engagement.complete": _p(OWNER_SIDE_ROLES, REL.OWNER_SIDE, "engagement.owner_only"),
    "engagement.dispute": _p(OWNER_SIDE_ROLES, REL.OWNER_SIDE, "engagement.owner_only"),
    "feedback.give": _p(OWNER_SIDE_ROLES, REL.OWNER_SIDE, "engagement.owner_only"),
    "report.filing": _p(PROVIDERS, REL.PROVIDER, "demand.not_yours"),
    # complaints (Jiangsu art. 31)
    "complaint.file": _p(OWNER_SIDE_ROLES, REL.DEALT_WITH, "complaint.not_dealt_with"),
    "complaint.decide": _p({R.ADMIN}, REL.NONE, "complaint.admin_only"),
    "dispute.resolve": _p({R.ADMIN}, REL.NONE, "engagement.admin_only"),
    # reviews (Rugao art. 15-16), one action per stage
    "review.reviewer": _p({R.REVIEWER, R.ADMIN}, REL.NONE, "review.not_allowed"),
    "review.publisher": _p({R.PUBLISHER, R.ADMIN}, REL.NONE, "review.not_allowed"),
    # the platform's year
    "report.annual": _p({R.INSTITUTION}, REL.NONE, "report.not_institution"),
    "invite.create": _p({R.ADMIN}, REL.NONE, "invite.admins_only"),
    "reminders.log": _p({R.ADMIN}, REL.NONE, "reminders.admin_only"),
    # institutions: tiers (Shenyang art. 7) and sanctions (Rugao art. 21)
    "institution.tier": _p({R.ADMIN}, REL.NONE, "institution.admin_only"),
    "institution.revoke": _p({R.ADMIN}, REL.NONE, "institution.admin_only"),
    # any active registered user may object during the public notice (公示)
    "tier.object": _p(set(Role), REL.NONE, "objection.not_allowed"),
    "objection.decide": _p({R.ADMIN}, REL.NONE, "institution.admin_only"),
    # innovation vouchers (Shenyang art. 7, Jiangsu art. 22 and 30, Rugao art. 12(4))
    "voucher.apply": _p({R.ENTERPRISE}, REL.OWNER_SIDE, "voucher.enterprise_only"),
    "voucher.withdraw": _p({R.ENTERPRISE}, REL.OWNER_SIDE, "voucher.not_yours"),
    "voucher.redeem": _p({R.INSTITUTION}, REL.PROVIDER, "voucher.institution_only"),
    "voucher.decide": _p({R.REVIEWER, R.ADMIN}, REL.NONE, "review.not_allowed"),
    # an enterprise or institution reads its own ledger
    "voucher.ledger": _p({R.ENTERPRISE, R.INSTITUTION}, REL.PARTY, "voucher.no_ledger"),
    # statistics and exports (issue #5 items 5-6); full personal data is audited
    "stats.view": _p({R.ADMIN}, REL.NONE, "stats.admin_only"),
    "export.masked": _p({R.ADMIN}, REL.NONE, "stats.admin_only"),
    "export.full": _p({R.ADMIN}, REL.NONE, "stats.admin_only"),
    # the annual evaluation (Shanghai art. 22): admins run it, institutions read their own
    "evaluation.run": _p({R.ADMIN}, REL.NONE, "evaluation.admin_only"),
    "evaluation.own": _p({R.INSTITUTION}, REL.NONE, "evaluation.institution_only"),
    # broadcasts to an audience (issue #5)
    "broadcast.send": _p({R.ADMIN}, REL.NONE, "broadcast.admin_only"),
    # the web dashboard (issue #6): its review queue is for those who review
    "dashboard.open": _p({R.REVIEWER, R.ADMIN}, REL.NONE, "dashboard.not_allowed"),
    # the JSON API (issue #6): bearer tokens for the provincial platform and the city portal
    "apitoken.manage": _p({R.ADMIN}, REL.NONE, "apitoken.admin_only"),
    # the catalogue (issue 9): providers write listings, reviewed before shown (Rugao art.
    # 11, 15); PROVIDER here means a member of the listing owner organisation
    "listing.write": _p(PROVIDERS, REL.NONE, "listing.not_provider"),
    "listing.manage": _p(PROVIDERS, REL.PROVIDER, "listing.not_yours"),
    "catalog.browse": _p(set(Role), REL.NONE, "catalog.not_allowed"),
    # enterprises enquire and book; the owner answers (Shenyang art. 10)
    "listing.request": _p({R.ENTERPRISE}, REL.NONE, "listing.request_not_allowed"),
    "listing.answer": _p(PROVIDERS, REL.PROVIDER, "listing.not_yours"),
}


def allowed(action: str, user: User | None, *, related: bool = True) -> bool:
    """Whether this user may do this now: active, of a role the action names, and (where the
    action needs a relation to the record) so related. Unknown actions are refused."""
    rule = TABLE.get(action)
    if rule is None or user is None or user.status is not UserStatus.ACTIVE:
        return False
    if user.role not in rule.roles:
        return False
    return rule.relation is Relation.NONE or related


def require(action: str, user: User | None, *, related: bool = True, **params: object) -> None:
    """Raise the action's polite refusal unless `allowed`."""
    if not allowed(action, user, related=related):
        rule = TABLE.get(action)
        raise NotAllowed(rule.refusal if rule else "button.forged", **params)


def stage_roles(stage: str) -> frozenset[Role]:
    """The roles that decide a review stage."""
    rule = TABLE.get(f"review.{stage}")
    return rule.roles if rule else frozenset()
