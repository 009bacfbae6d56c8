"""Races on one demand (issue #3: "the concurrency cases decide once").

asyncio.gather starts both actions together. On PostgreSQL each runs on its own pooled
connection and the database orders them; on SQLite Tortoise shares one connection and
serialises transactions, so they interleave only between statements. Either way the
compare-and-set (lifecycle.move, review.decide, the intent's pending check) lets one win.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any

from models import complaints, engagements, market, review
from models.demand_entities import (
    Complaint,
    ComplaintStatus,
    Demand,
    DemandStatus,
    Engagement,
    Feedback,
    Intent,
    IntentStatus,
)
from models.entities import AuditLog, Review, ReviewCard, ReviewStatus, Role
from models.errors import AlreadyDecided, InvalidTransition, NotAllowed
from models.users import display_name
from tests.conftest import make_staff
from tests.demand_support import PLATFORM, TODAY, make_member, published_demand, submitted_demand
from tests.lifecycle_support import (
    PROPOSAL,
    SCORES,
    audited,
    cast,
    in_status,
    offer,
    status_of,
)

S = DemandStatus
# Each race is run a few times: an interleaving that goes wrong shows up in the first few.
ROUNDS = 6


async def race(*actions: Awaitable[Any]) -> tuple[list[Any], list[BaseException]]:
    """Run the actions at once: what succeeded, and what was raised."""
    results = await asyncio.gather(*actions, return_exceptions=True)
    losses = [r for r in results if isinstance(r, BaseException)]
    return [r for r in results if not isinstance(r, BaseException)], losses


async def test_two_offers_accepted_at_once(database: str) -> None:
    c = await cast()
    for _ in range(ROUNDS):
        demand = await published_demand(c.owner, c.reviewer)
        first, second = await offer(demand, c.inst), await offer(demand, c.rival)
        wins, losses = await race(
            market.accept(first.id, c.owner), market.accept(second.id, c.owner)
        )
        assert len(wins) == 1 and [type(e) for e in losses] == [InvalidTransition], losses
        matched = await Demand.get(id=demand.id)
        assert matched.status is S.MATCHED
        states = {i.id: i.status for i in await Intent.filter(demand_id=demand.id)}
        winner = wins[0][0].intent_id
        assert states[winner] is IntentStatus.ACCEPTED
        assert states[({first.id, second.id} - {winner}).pop()] is IntentStatus.CLOSED
        [engagement] = await Engagement.filter(demand_id=demand.id)
        assert engagement.institution_id == matched.matched_institution_id
        assert len(await audited(demand, S.MATCHED)) == 1


async def test_same_offer_accepted_twice_at_once(database: str) -> None:
    c = await cast()
    demand = await published_demand(c.owner, c.reviewer)
    intent = await offer(demand, c.inst)
    wins, losses = await race(market.accept(intent.id, c.owner), market.accept(intent.id, c.owner))
    assert len(wins) == 1 and [type(e) for e in losses] == [InvalidTransition], losses
    assert await status_of(demand) is S.MATCHED
    assert await Engagement.filter(demand_id=demand.id).count() == 1
    assert len(await audited(demand, S.MATCHED)) == 1


async def _two_reviewers(demand: Demand) -> tuple[Review, list[int]]:
    """The demand's waiting review, with a full checklist on each reviewer's own card."""
    second = await make_staff(202, Role.REVIEWER, "孙审核")
    waiting = await Review.get(subject_type="demand", subject_id=demand.id, status="pending")
    reviewers = [201, second.id]
    for number, reviewer_id in enumerate(reviewers):
        await ReviewCard.create(
            review_id=waiting.id,
            reviewer_id=reviewer_id,
            message_id=number + 1,
            checklist=list(review.CHECKLIST),
        )
    return waiting, reviewers


async def test_two_reviewers_approve_at_once(database: str) -> None:
    c = await cast()
    demand = await submitted_demand(c.owner)
    waiting, reviewers = await _two_reviewers(demand)
    wins, losses = await race(
        *(
            review.decide(waiting.id, r, approve=True, reason=None, platform=PLATFORM)
            for r in reviewers
        )
    )
    assert len(wins) == 1 and [type(e) for e in losses] == [AlreadyDecided], losses
    decided = await Review.get(id=waiting.id).prefetch_related("decided_by")
    assert decided.decided_by is not None
    problem = losses[0]
    assert isinstance(problem, AlreadyDecided)
    assert (problem.params["by"], problem.params["approved"]) == (
        display_name(decided.decided_by),
        True,
    )
    assert await status_of(demand) is S.PUBLISHED
    assert len(await audited(demand, S.PUBLISHED)) == 1
    assert await AuditLog.filter(action="review.approved", subject_id=str(waiting.id)).count() == 1


async def test_approve_and_reject_at_once(database: str) -> None:
    c = await cast()
    demand = await submitted_demand(c.owner)
    waiting, (first, second) = await _two_reviewers(demand)
    wins, losses = await race(
        review.decide(waiting.id, first, approve=True, reason=None, platform=PLATFORM),
        review.decide(waiting.id, second, approve=False, reason="描述不清", platform=PLATFORM),
    )
    assert len(wins) == 1 and [type(e) for e in losses] == [AlreadyDecided], losses
    decided = await Review.get(id=waiting.id)
    approved = decided.decided_by_id == first
    assert isinstance(losses[0], AlreadyDecided) and losses[0].params["approved"] is approved
    assert await status_of(demand) is (S.PUBLISHED if approved else S.REJECTED)
    moves = [*await audited(demand, S.PUBLISHED), *await audited(demand, S.REJECTED)]
    assert len(moves) == 1


async def test_withdraw_racing_accept(database: str) -> None:
    c = await cast()
    for order in range(ROUNDS):
        demand = await published_demand(c.owner, c.reviewer)
        intent = await offer(demand, c.inst)
        actions = [market.withdraw(demand.id, c.owner), market.accept(intent.id, c.owner)]
        if order % 2:  # accept starts first
            accepted, withdrawn = await asyncio.gather(*reversed(actions), return_exceptions=True)
        else:
            withdrawn, accepted = await asyncio.gather(*actions, return_exceptions=True)
        assert not isinstance(withdrawn, BaseException), withdrawn  # open either way
        assert await status_of(demand) is S.WITHDRAWN
        if isinstance(accepted, BaseException):  # withdrawn first: accept finds it closed
            assert isinstance(accepted, InvalidTransition)
            assert (await Intent.get(id=intent.id)).status is IntentStatus.CLOSED
            assert not await Engagement.exists(demand_id=demand.id)
            assert await audited(demand, S.MATCHED) == []
        else:  # accepted first, then withdrawn from matched (a legal move, DESIGN §2)
            assert len(await audited(demand, S.MATCHED)) == 1
        assert len(await audited(demand, S.WITHDRAWN)) == 1


async def test_two_complete_presses(database: str) -> None:
    c = await cast()
    demand = await in_status(c, S.DELIVERED)
    wins, losses = await race(
        engagements.confirm_completion(demand.id, c.owner),
        engagements.confirm_completion(demand.id, c.owner),
    )
    assert len(wins) == 1 and [type(e) for e in losses] == [InvalidTransition], losses
    assert await status_of(demand) is S.COMPLETED
    assert len(await audited(demand, S.COMPLETED)) == 1


async def test_filing_refused_while_the_institution_marks_delivered(database: str) -> None:
    """Delivery waits for the acknowledgement, so a refusal can never come after it."""
    c = await cast()
    for _ in range(ROUNDS):
        demand = await in_status(c, S.CONTRACTED)
        engagement = await Engagement.get(demand_id=demand.id)
        waiting = await Review.get(subject_id=engagement.id, subject_type="contract")
        wins, losses = await race(
            review.decide(
                waiting.id, c.reviewer.id, approve=False, reason="缺少盖章页", platform=PLATFORM
            ),
            engagements.mark_delivered(demand.id, c.inst),
        )
        assert len(wins) == 1 and len(losses) == 1, losses
        assert isinstance(losses[0], InvalidTransition | NotAllowed), losses
        assert await status_of(demand) is S.MATCHED
        assert not await audited(demand, S.DELIVERED)
        assert (await Review.get(id=waiting.id)).status is ReviewStatus.REJECTED


async def test_two_admins_resolve_a_dispute_at_once(database: str) -> None:
    c = await cast()
    demand = await in_status(c, S.DISPUTED)
    other = await make_staff(901, Role.ADMIN, "吴管理")
    wins, losses = await race(
        engagements.resolve_dispute(demand.id, c.admin, completed=True),
        engagements.resolve_dispute(demand.id, other, completed=False),
    )
    assert len(wins) == 1 and [type(e) for e in losses] == [InvalidTransition], losses
    final = await status_of(demand)
    assert final in (S.COMPLETED, S.CONTRACTED)
    assert len(await audited(demand, final)) == (2 if final is S.CONTRACTED else 1)


async def test_feedback_twice_at_once(database: str) -> None:
    c = await cast()
    demand = await in_status(c, S.COMPLETED)
    wins, losses = await race(
        engagements.give_feedback(demand.id, c.owner, SCORES, "solved", None),
        engagements.give_feedback(demand.id, c.owner, SCORES, "partly", None),
    )
    assert len(wins) == 1 and [type(e) for e in losses] == [AlreadyDecided], losses
    assert await Feedback.all().count() == 1


async def test_one_institution_offers_twice_at_once(database: str) -> None:
    c = await cast()
    demand = await published_demand(c.owner, c.reviewer)
    colleague = await make_member(
        307,
        "吴工",
        Role.INSTITUTION,
        "",
        org=await c.inst.organization,
    )
    wins, losses = await race(
        market.offer(demand.id, c.inst, "我们三天出报告。", None),
        market.offer(demand.id, colleague, "我们两天出报告。", None),
    )
    assert len(wins) == 1 and [type(e) for e in losses] == [AlreadyDecided], losses
    assert await Intent.filter(demand_id=demand.id).count() == 1


async def test_two_admins_decide_a_complaint_at_once(database: str) -> None:
    c = await cast()
    demand = await published_demand(c.owner, c.reviewer)
    await offer(demand, c.inst)
    complaint, _ = await complaints.file(
        c.owner, c.inst.organization_id or 0, "报价后一直联系不上，耽误了工期。"
    )
    other = await make_staff(901, Role.ADMIN, "吴管理")
    wins, losses = await race(
        complaints.decide(complaint.id, c.admin, upheld=True),
        complaints.decide(complaint.id, other, upheld=False),
    )
    assert len(wins) == 1 and [type(e) for e in losses] == [AlreadyDecided], losses
    decided = await Complaint.get(id=complaint.id)
    assert decided.status is wins[0].status
    assert decided.status in (ComplaintStatus.UPHELD, ComplaintStatus.DISMISSED)


async def test_expiry_racing_accept(database: str) -> None:
    c = await cast()
    for _ in range(ROUNDS):
        demand = await published_demand(c.owner, c.reviewer)
        intent = await offer(demand, c.inst)
        await Demand.filter(id=demand.id).update(wanted_by=TODAY - timedelta(days=1))
        expired, accepted = await asyncio.gather(
            market.expire_due(TODAY), market.accept(intent.id, c.owner), return_exceptions=True
        )
        assert not isinstance(expired, BaseException), expired  # a batch job never fails
        final = await status_of(demand)
        if isinstance(accepted, BaseException):
            assert isinstance(accepted, InvalidTransition)
            assert final is S.EXPIRED and not await Engagement.exists(demand_id=demand.id)
        else:
            assert final is S.MATCHED and expired == []


async def test_approval_racing_withdrawal(database: str) -> None:
    c = await cast()
    for _ in range(ROUNDS):
        demand = await submitted_demand(c.owner)
        waiting, (reviewer, _) = await _two_reviewers(demand)
        decided, withdrawn = await asyncio.gather(
            review.decide(waiting.id, reviewer, approve=True, reason=None, platform=PLATFORM),
            market.withdraw(demand.id, c.owner),
            return_exceptions=True,
        )
        assert not isinstance(withdrawn, BaseException), withdrawn  # open either way
        assert await status_of(demand) is S.WITHDRAWN
        status = (await Review.get(id=waiting.id)).status
        if isinstance(decided, BaseException):  # withdrawn first: the review was cancelled
            assert isinstance(decided, AlreadyDecided) and status is ReviewStatus.CANCELLED
            assert await audited(demand, S.PUBLISHED) == []
        else:  # published first, then withdrawn from the market
            assert status is ReviewStatus.APPROVED
            assert len(await audited(demand, S.PUBLISHED)) == 1


async def test_offer_racing_accept(database: str) -> None:
    c = await cast()
    for _ in range(ROUNDS):
        demand = await published_demand(c.owner, c.reviewer)
        first = await offer(demand, c.inst)
        accepted, offered = await asyncio.gather(
            market.accept(first.id, c.owner),
            market.offer(demand.id, c.rival, PROPOSAL, None),
            return_exceptions=True,
        )
        assert not isinstance(accepted, BaseException), accepted
        assert await status_of(demand) is S.MATCHED
        # An offer that came too late is refused or closed, never left pending on a matched demand.
        assert not await Intent.exists(demand_id=demand.id, status=IntentStatus.PENDING)
        if isinstance(offered, BaseException):
            assert isinstance(offered, InvalidTransition)
        await Intent.filter(demand_id=demand.id, institution_id=c.rival.organization_id).delete()
