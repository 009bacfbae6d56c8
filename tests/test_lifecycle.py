"""The demand state machine on real databases (issue #3): every pair of statuses through
`lifecycle.move`, and every domain action that moves a demand, allowed and refused.
Races between actions are in test_lifecycle_concurrency.py.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from models import demands, lifecycle, market, review
from models.demand_entities import (
    Demand,
    DemandStatus,
    Engagement,
    Intent,
    IntentStatus,
)
from models.entities import (
    AuditLog,
    InstitutionTier,
    Organization,
    OrgStatus,
    Review,
    ReviewCard,
    ReviewStatus,
    Role,
    UserStatus,
)
from models.errors import AlreadyDecided, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from models.events import DemandClosed, DemandMatched
from tests.conftest import make_staff
from tests.demand_support import (
    PLATFORM,
    TODAY,
    approve_demand,
    draft,
    make_member,
    matched_demand,
    published_demand,
    submitted_demand,
)
from tests.lifecycle_support import (
    LEGAL,
    OPEN,
    PAIRS,
    PROPOSAL,
    S,
    audited,
    cast,
    in_status,
    offer,
    pending_review,
    reject,
    status_of,
)

# -- the table ---------------------------------------------------------------------------


def test_table_is_the_designed_one() -> None:
    table = {(a, b) for a, targets in lifecycle.TRANSITIONS.items() for b in targets}
    assert table == LEGAL
    assert set(lifecycle.TRANSITIONS) == set(S)
    assert set(OPEN) == lifecycle.OPEN_STATES
    assert {S.COMPLETED, S.EXPIRED, S.WITHDRAWN} == lifecycle.FINAL_STATES


@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}-{b}" for a, b in PAIRS])
async def test_every_pair_of_statuses(
    database: str, source: DemandStatus, target: DemandStatus
) -> None:
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    demand = await submitted_demand(owner)
    await Demand.filter(id=demand.id).update(status=source)
    demand = await Demand.get(id=demand.id)
    trail = await AuditLog.all().count()
    if (source, target) in LEGAL:
        moved = await lifecycle.move(demand, target, owner.id)
        assert moved.status is target and await status_of(demand) is target
        row = (await audited(demand, target))[-1]
        assert (row.actor_id, row.before, row.after) == (
            owner.id,
            {"status": source.value},
            {"status": target.value},
        )
        assert await AuditLog.all().count() == trail + 1
    else:
        with pytest.raises(InvalidTransition) as refused:
            await lifecycle.move(demand, target, owner.id)
        assert refused.value.message_id == "demand.invalid_transition"
        assert refused.value.params == {
            "reference": demand.reference,
            "status": source.value,
            "target": target.value,
        }
        assert await status_of(demand) is source
        assert await AuditLog.all().count() == trail


async def test_move_narrowed_and_with_changes(database: str) -> None:
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    demand = await submitted_demand(owner)
    await Demand.filter(id=demand.id).update(status=S.DISPUTED)
    demand = await Demand.get(id=demand.id)
    with pytest.raises(InvalidTransition):  # legal in the table, not for this action
        await lifecycle.move(demand, S.COMPLETED, owner.id, only_from=frozenset({S.DELIVERED}))
    assert await status_of(demand) is S.DISPUTED
    await Demand.filter(id=demand.id).update(status=S.PUBLISHED)
    demand = await Demand.get(id=demand.id)
    org = await Organization.get(id=owner.organization_id)
    moved = await lifecycle.move(demand, S.MATCHED, None, matched_institution_id=org.id)
    assert moved.matched_institution_id == org.id
    row = (await audited(demand, S.MATCHED))[0]
    assert row.actor_id is None
    assert row.after == {"status": "matched", "matched_institution_id": org.id}


async def test_audit_before_is_the_replaced_status(database: str) -> None:
    # withdraw racing accept does exactly this: it read the demand while it was published.
    c = await cast()
    demand = await published_demand(c.owner, c.reviewer)
    intent = await offer(demand, c.inst)
    stale = await Demand.get(id=demand.id)
    await market.accept(intent.id, c.owner)
    await lifecycle.move(stale, S.WITHDRAWN, c.owner.id)
    assert (await audited(demand, S.WITHDRAWN))[0].before == {"status": "matched"}


# -- review ------------------------------------------------------------------------------


async def test_approval_needs_the_reviewers_own_checklist(database: str) -> None:
    c = await cast()
    colleague = await make_staff(202, Role.REVIEWER, "孙审核")
    demand = await submitted_demand(c.owner)
    waiting = await pending_review(demand)
    await ReviewCard.create(review_id=waiting.id, reviewer_id=c.reviewer.id, message_id=1)
    await ReviewCard.create(
        review_id=waiting.id, reviewer_id=colleague.id, message_id=2, checklist=review.CHECKLIST
    )
    for item in review.CHECKLIST[:-1]:
        await review.tick(waiting.id, c.reviewer.id, item)
    assert await review.tick(waiting.id, c.reviewer.id, "compliant") == list(review.CHECKLIST)
    assert await review.tick(waiting.id, c.reviewer.id, "compliant") == [
        "no_secret",
        "true_current",
    ]
    with pytest.raises(ValidationFailed) as refused:  # the colleague's ticks are not his
        await review.decide(
            waiting.id, c.reviewer.id, approve=True, reason=None, platform=PLATFORM
        )
    assert refused.value.message_id == "review.checklist_incomplete"
    assert await status_of(demand) is S.SUBMITTED
    assert (await Review.get(id=waiting.id)).status is ReviewStatus.PENDING
    await review.tick(waiting.id, c.reviewer.id, "compliant")
    await review.decide(waiting.id, c.reviewer.id, approve=True, reason=None, platform=PLATFORM)
    published = await Demand.get(id=demand.id)
    assert published.status is S.PUBLISHED and published.published_at is not None
    [row] = await audited(demand, S.PUBLISHED)
    assert (row.actor_id, row.before) == (c.reviewer.id, {"status": "submitted"})
    assert (await Review.get(id=waiting.id)).checklist == list(review.CHECKLIST)


async def test_rejection(database: str) -> None:
    c = await cast()
    demand = await reject(await submitted_demand(c.owner), c.reviewer)
    assert demand.status is S.REJECTED
    [row] = await audited(demand, S.REJECTED)
    assert (row.actor_id, row.before) == (c.reviewer.id, {"status": "submitted"})
    assert (await Review.get(subject_id=demand.id)).reason == "描述不完整"


@pytest.mark.parametrize("approved", [True, False], ids=["approve", "reject"])
@pytest.mark.parametrize("status", [s for s in S if s is not S.SUBMITTED])
async def test_review_concludes_only_a_submitted_demand(
    database: str, status: DemandStatus, approved: bool
) -> None:
    c = await cast()
    demand = await submitted_demand(c.owner)
    await Demand.filter(id=demand.id).update(status=status)
    with pytest.raises(InvalidTransition):
        await market.conclude_review(demand.id, approved, "理由", c.reviewer.id)
    assert await status_of(demand) is status


async def test_resubmit_after_rejection(database: str) -> None:
    c = await cast()
    demand = await reject(await submitted_demand(c.owner), c.reviewer)
    outcome = await demands.resubmit(
        demand.id, c.owner, draft(title="红外光谱与热重检测"), PLATFORM, TODAY
    )
    assert outcome.demand.status is S.SUBMITTED and outcome.demand.title == "红外光谱与热重检测"
    assert await Review.filter(subject_id=demand.id, status=ReviewStatus.PENDING).count() == 1
    assert len(await audited(demand, "resubmitted")) == 1
    assert (await approve_demand(outcome.demand, c.reviewer)).status is S.PUBLISHED


@pytest.mark.parametrize("status", [s for s in S if s is not S.REJECTED])
async def test_resubmit_only_from_rejected(database: str, status: DemandStatus) -> None:
    c = await cast()
    demand = await submitted_demand(c.owner)
    await Demand.filter(id=demand.id).update(status=status)
    with pytest.raises(InvalidTransition) as refused:
        await demands.resubmit(demand.id, c.owner, draft(), PLATFORM, TODAY)
    assert refused.value.message_id == "demand.not_rejected"
    assert await status_of(demand) is status
    await Demand.filter(id=demand.id).update(status=S.REJECTED)
    with pytest.raises(NotAllowed):
        await demands.resubmit(demand.id, c.stranger, draft(), PLATFORM, TODAY)
    assert await status_of(demand) is S.REJECTED


# -- withdrawal and expiry ---------------------------------------------------------------


@pytest.mark.parametrize("status", OPEN)
async def test_withdraw_from_open_state(database: str, status: DemandStatus) -> None:
    c = await cast()
    demand = await in_status(c, status)
    offers = []
    if status is S.PUBLISHED:
        offers = [(await offer(demand, c.inst)).id, (await offer(demand, c.rival)).id]
    for outsider in (c.stranger, c.inst, c.reviewer):
        with pytest.raises(NotAllowed):
            await market.withdraw(demand.id, outsider)
    events = await market.withdraw(demand.id, c.owner)
    assert await status_of(demand) is S.WITHDRAWN
    [row] = await audited(demand, S.WITHDRAWN)
    assert (row.actor_id, row.before) == (c.owner.id, {"status": status.value})
    assert events[-1] == DemandClosed(demand.id, tuple(offers))
    assert not await Intent.exists(demand_id=demand.id, status=IntentStatus.PENDING)
    assert not await Review.exists(subject_id=demand.id, status=ReviewStatus.PENDING)
    cancelled = await Review.filter(subject_id=demand.id, status=ReviewStatus.CANCELLED).count()
    assert cancelled == (1 if status is S.SUBMITTED else 0)
    with pytest.raises(InvalidTransition):
        await market.withdraw(demand.id, c.owner)


@pytest.mark.parametrize(
    "status", [S.CONTRACTED, S.DELIVERED, S.DISPUTED, S.COMPLETED, S.EXPIRED, S.WITHDRAWN]
)
async def test_withdraw_refused_once_bound_or_closed(database: str, status: DemandStatus) -> None:
    c = await cast()
    demand = await in_status(c, status)
    before = len(await audited(demand, S.WITHDRAWN))
    with pytest.raises(InvalidTransition) as refused:
        await market.withdraw(demand.id, c.owner)
    assert refused.value.params["status"] == status.value
    assert await status_of(demand) is status
    assert len(await audited(demand, S.WITHDRAWN)) == before


async def test_expire_due(database: str) -> None:
    c = await cast()
    due = await published_demand(c.owner, c.reviewer)
    waiting = await offer(due, c.inst)
    due_today = await published_demand(c.owner, c.reviewer)
    matched = await matched_demand(c.owner, c.reviewer, c.rival)
    unreviewed = await submitted_demand(c.owner)
    yesterday = TODAY - timedelta(days=1)
    await Demand.filter(id__in=[due.id, matched.id, unreviewed.id]).update(wanted_by=yesterday)
    await Demand.filter(id=due_today.id).update(wanted_by=TODAY)
    assert await market.expire_due(TODAY) == [DemandClosed(due.id, (waiting.id,))]
    assert await status_of(due) is S.EXPIRED
    assert await status_of(due_today) is S.PUBLISHED  # due today: not yet past
    assert await status_of(matched) is S.MATCHED
    assert await status_of(unreviewed) is S.SUBMITTED
    assert (await Intent.get(id=waiting.id)).status is IntentStatus.CLOSED
    [row] = await audited(due, S.EXPIRED)
    assert (row.actor_id, row.before) == (None, {"status": "published"})
    assert await market.expire_due(TODAY) == []
    assert await market.expire_due(TODAY + timedelta(days=1)) == [DemandClosed(due_today.id, ())]


# -- offers, acceptance ------------------------------------------------------------------


@pytest.mark.parametrize("status", [s for s in S if s is not S.PUBLISHED])
async def test_offer_only_on_published(database: str, status: DemandStatus) -> None:
    c = await cast()
    demand = await submitted_demand(c.owner)
    await Demand.filter(id=demand.id).update(status=status)
    with pytest.raises(InvalidTransition) as refused:
        await market.offer(demand.id, c.inst, PROPOSAL, None)
    assert refused.value.message_id == "intent.not_open"
    assert not await Intent.exists(demand_id=demand.id)


async def test_who_may_offer(database: str) -> None:
    c = await cast()
    demand = await published_demand(c.owner, c.reviewer)
    cultivating = await make_member(
        303, "周工", Role.INSTITUTION, "培育机构", tier=InstitutionTier.CULTIVATING
    )
    voucher = await make_member(
        304, "郑工", Role.INSTITUTION, "券机构", tier=InstitutionTier.VOUCHER
    )
    suspended_org = await make_member(305, "钱工", Role.INSTITUTION, "停业机构")
    await Organization.filter(id=suspended_org.organization_id).update(status=OrgStatus.SUSPENDED)
    suspended_user = await make_member(306, "孙工", Role.INSTITUTION, "另一机构")
    suspended_user.status = UserStatus.SUSPENDED
    refusals = [
        (cultivating, "intent.cultivating"),  # Shenyang art. 7
        (suspended_org, "intent.institution_inactive"),
        (suspended_user, "intent.not_institution"),
        (c.stranger, "intent.not_institution"),
        (c.owner, "intent.not_institution"),
        (c.reviewer, "intent.not_institution"),
    ]
    for user, message_id in refusals:
        with pytest.raises(NotAllowed) as refused:
            await market.offer(demand.id, user, PROPOSAL, None)
        assert refused.value.message_id == message_id
    assert not await Intent.exists(demand_id=demand.id)
    await offer(demand, voucher)
    await offer(demand, c.inst)
    colleague = await make_member(
        307, "吴工", Role.INSTITUTION, "", org=await Organization.get(id=c.inst.organization_id)
    )
    for again in (c.inst, colleague):  # one offer per institution
        with pytest.raises(AlreadyDecided) as refused:
            await market.offer(demand.id, again, PROPOSAL, Decimal("9000"))
        assert refused.value.message_id == "intent.already"
    assert await Intent.filter(demand_id=demand.id).count() == 2
    assert await status_of(demand) is S.PUBLISHED


async def test_accept_matches_and_closes_the_other_offers(database: str) -> None:
    c = await cast()
    demand = await published_demand(c.owner, c.reviewer)
    mine, theirs = await offer(demand, c.inst), await offer(demand, c.rival)
    for outsider in (c.stranger, c.inst, c.rival):  # the institution cannot accept itself
        with pytest.raises(NotAllowed) as refused:
            await market.accept(mine.id, outsider)
        assert refused.value.message_id == "demand.not_yours"
    with pytest.raises(NotFound):
        await market.accept(mine.id + theirs.id, c.owner)
    assert await status_of(demand) is S.PUBLISHED
    events = await market.accept(mine.id, c.owner)
    assert events == [DemandMatched(demand.id, mine.id, (theirs.id,))]
    matched = await Demand.get(id=demand.id)
    assert matched.status is S.MATCHED
    assert matched.matched_institution_id == c.inst.organization_id
    engagement = await Engagement.get(demand_id=demand.id)
    assert engagement.institution_id == c.inst.organization_id
    assert (await Intent.get(id=mine.id)).status is IntentStatus.ACCEPTED
    assert (await Intent.get(id=theirs.id)).status is IntentStatus.CLOSED
    for intent in (theirs, mine):
        with pytest.raises(InvalidTransition):
            await market.accept(intent.id, c.owner)
    assert len(await audited(demand, S.MATCHED)) == 1
    assert await Engagement.filter(demand_id=demand.id).count() == 1


async def test_accept_refused_off_the_market(database: str) -> None:
    c = await cast()
    withdrawn = await published_demand(c.owner, c.reviewer)
    late = await offer(withdrawn, c.inst)
    await market.withdraw(withdrawn.id, c.owner)
    with pytest.raises(InvalidTransition):
        await market.accept(late.id, c.owner)
    assert await status_of(withdrawn) is S.WITHDRAWN
    # A demand that left the market while an offer was still pending: nothing half-done.
    expired = await published_demand(c.owner, c.reviewer)
    stuck = await offer(expired, c.inst)
    await Demand.filter(id=expired.id).update(status=S.EXPIRED)
    with pytest.raises(InvalidTransition):
        await market.accept(stuck.id, c.owner)
    assert (await Intent.get(id=stuck.id)).status is IntentStatus.PENDING
    assert await status_of(expired) is S.EXPIRED
    assert not await Engagement.exists()


async def test_decline(database: str) -> None:
    c = await cast()
    demand = await published_demand(c.owner, c.reviewer)
    mine, theirs = await offer(demand, c.inst), await offer(demand, c.rival)
    for outsider in (c.stranger, c.rival):
        with pytest.raises(NotAllowed):
            await market.decline(theirs.id, outsider)
    await market.decline(theirs.id, c.owner)
    assert (await Intent.get(id=theirs.id)).status is IntentStatus.DECLINED
    assert (await Intent.get(id=mine.id)).status is IntentStatus.PENDING
    assert await status_of(demand) is S.PUBLISHED
    for again in (market.decline, market.accept):
        with pytest.raises(InvalidTransition) as refused:
            await again(theirs.id, c.owner)
        assert refused.value.message_id == "intent.not_pending"
    await market.accept(mine.id, c.owner)
    assert await status_of(demand) is S.MATCHED
