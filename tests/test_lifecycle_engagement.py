"""The demand state machine after the match.

Contract, delivery, completion, dispute, feedback, relay and take-over, complaints.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from models import complaints, demands, engagements, market, relay, review
from models.demand_entities import (
    Complaint,
    ComplaintStatus,
    DemandStatus,
    Engagement,
    Feedback,
)
from models.entities import (
    AuditLog,
    Role,
    UserStatus,
)
from models.errors import AlreadyDecided, InvalidTransition, NotAllowed, NotFound, ValidationFailed
from tests.conftest import ADMIN_ID, make_staff
from tests.demand_support import (
    PLATFORM,
    TODAY,
    draft,
    make_assistant,
    make_member,
    matched_demand,
    published_demand,
)
from tests.lifecycle_support import (
    SCORES,
    S,
    acknowledge,
    audited,
    cast,
    file_contract,
    in_status,
    offer,
    pending_review,
    status_of,
)

# -- contract, delivery, completion, dispute ---------------------------------------------


@pytest.mark.parametrize("side", ["owner", "inst"])
async def test_either_party_files_the_contract(database: str, side: str) -> None:
    c = await cast()
    demand = await in_status(c, S.MATCHED)
    filer = c.owner if side == "owner" else c.inst
    for outsider in (c.stranger, c.rival):
        with pytest.raises(NotAllowed) as refused:
            await file_contract(demand, outsider)
        assert refused.value.message_id == "demand.not_yours"
    await file_contract(demand, filer, date(2024, 1, 31))
    assert await status_of(demand) is S.CONTRACTED
    engagement = await Engagement.get(demand_id=demand.id)
    assert (engagement.signed_on, engagement.filing_due) == (date(2024, 1, 31), date(2024, 2, 29))
    assert (engagement.filed_by_id, engagement.contract_sha256) == (filer.id, "a" * 64)
    assert engagement.voucher and engagement.amount == Decimal("30000")
    assert (await pending_review(demand, "contract")).stage == "reviewer"
    [row] = await audited(demand, S.CONTRACTED)
    assert (row.actor_id, row.before) == (filer.id, {"status": "matched"})


def test_filing_due_one_month_after_signing() -> None:  # Keqiao 1(4)
    after = engagements.one_month_after
    assert after(date(2025, 1, 31)) == date(2025, 2, 28)
    assert after(date(2024, 1, 31)) == date(2024, 2, 29)
    assert after(date(2025, 3, 31)) == date(2025, 4, 30)
    assert after(date(2025, 12, 15)) == date(2026, 1, 15)
    assert after(date(2025, 6, 1)) == date(2025, 7, 1)


@pytest.mark.parametrize(
    "status", [S.CONTRACTED, S.DELIVERED, S.DISPUTED, S.COMPLETED, S.WITHDRAWN, S.PUBLISHED]
)
async def test_contract_filed_only_when_matched(database: str, status: DemandStatus) -> None:
    c = await cast()
    if status is S.WITHDRAWN:  # withdrawn after the match: the engagement row remains
        demand = await in_status(c, S.MATCHED)
        await market.withdraw(demand.id, c.owner)
    else:
        demand = await in_status(c, status)
    filings = len(await audited(demand, S.CONTRACTED))
    problem = NotFound if status is S.PUBLISHED else InvalidTransition  # no engagement yet
    with pytest.raises(problem):
        await file_contract(demand, c.owner)
    assert await status_of(demand) is status
    assert len(await audited(demand, S.CONTRACTED)) == filings


async def test_contract_review_refused(database: str) -> None:
    c = await cast()
    demand = await in_status(c, S.CONTRACTED)
    filing = await pending_review(demand, "contract")
    await review.decide(
        filing.id, c.reviewer.id, approve=False, reason="合同未盖章", platform=PLATFORM
    )
    assert await status_of(demand) is S.MATCHED
    engagement = await Engagement.get(demand_id=demand.id)
    assert (engagement.contract_file_id, engagement.contract_sha256) == (None, None)
    assert (engagement.filed_at, engagement.filing_due) == (None, None)
    row = (await audited(demand, S.MATCHED))[-1]  # the first is the acceptance
    assert (row.actor_id, row.before) == (c.reviewer.id, {"status": "contracted"})


async def test_contract_acknowledged(database: str) -> None:
    c = await cast()
    demand = await in_status(c, S.CONTRACTED)
    filing = await pending_review(demand, "contract")
    await review.decide(filing.id, c.reviewer.id, approve=True, reason=None, platform=PLATFORM)
    assert await status_of(demand) is S.CONTRACTED
    engagement = await Engagement.get(demand_id=demand.id)
    assert engagement.contract_sha256 == "0" * 64  # as filed by contracted_demand
    acknowledged = AuditLog.filter(action="contract.acknowledged", subject_id=str(engagement.id))
    assert await acknowledged.count() == 1


async def test_contract_filed_again_after_refusal(database: str) -> None:
    c = await cast()
    demand = await in_status(c, S.CONTRACTED)
    filing = await pending_review(demand, "contract")
    await review.decide(
        filing.id, c.reviewer.id, approve=False, reason="合同未盖章", platform=PLATFORM
    )
    await file_contract(demand, c.inst)  # the parties file again: a new acknowledgement
    assert await status_of(demand) is S.CONTRACTED
    again = await pending_review(demand, "contract")
    await review.decide(again.id, c.reviewer.id, approve=True, reason=None, platform=PLATFORM)
    assert await status_of(demand) is S.CONTRACTED


async def test_only_voucher_tier_institutions_accept_vouchers(database: str) -> None:
    """Shenyang art. 7: a service-tier institution files its contract without a voucher."""
    c = await cast()
    demand = await published_demand(c.owner, c.reviewer)
    await market.accept((await offer(demand, c.rival)).id, c.owner)
    with pytest.raises(ValidationFailed) as refused:
        await file_contract(demand, c.rival)
    assert refused.value.message_id == "contract.voucher_tier"
    assert await status_of(demand) is S.MATCHED
    await engagements.file_contract(
        demand.id,
        c.rival,
        file_id="contract-file",
        sha256="a" * 64,
        amount=Decimal("30000"),
        signed_on=TODAY,
        voucher=False,
        platform=PLATFORM,
    )
    assert await status_of(demand) is S.CONTRACTED


async def test_mark_delivered(database: str) -> None:
    c = await cast()
    demand = await in_status(c, S.MATCHED)
    with pytest.raises(InvalidTransition):
        await engagements.mark_delivered(demand.id, c.inst)
    await file_contract(demand, c.owner)
    for user, message_id in (
        (c.owner, "engagement.institution_only"),
        (c.rival, "demand.not_yours"),
        (c.stranger, "demand.not_yours"),
    ):
        with pytest.raises(NotAllowed) as refused:
            await engagements.mark_delivered(demand.id, user)
        assert refused.value.message_id == message_id
    # Not before a reviewer has acknowledged the filing: a refusal would come too late.
    with pytest.raises(NotAllowed) as refused:
        await engagements.mark_delivered(demand.id, c.inst)
    assert refused.value.message_id == "engagement.filing_unacknowledged"
    assert await status_of(demand) is S.CONTRACTED
    assert not await audited(demand, S.DELIVERED)
    await acknowledge(demand, c.reviewer)
    await engagements.mark_delivered(demand.id, c.inst)
    assert await status_of(demand) is S.DELIVERED
    assert (await Engagement.get(demand_id=demand.id)).delivered_at is not None
    with pytest.raises(InvalidTransition):
        await engagements.mark_delivered(demand.id, c.inst)
    [row] = await audited(demand, S.DELIVERED)
    assert (row.actor_id, row.before) == (c.inst.id, {"status": "contracted"})


@pytest.mark.parametrize("status", [S.MATCHED, S.CONTRACTED, S.DISPUTED, S.COMPLETED])
async def test_completion_confirmed_only_when_delivered(
    database: str, status: DemandStatus
) -> None:
    c = await cast()
    demand = await in_status(c, status)
    with pytest.raises(InvalidTransition):
        await engagements.confirm_completion(demand.id, c.owner)
    assert await status_of(demand) is status


async def test_confirm_completion(database: str) -> None:
    c = await cast()
    demand = await in_status(c, S.DELIVERED)
    for user, message_id in ((c.inst, "engagement.owner_only"), (c.stranger, "demand.not_yours")):
        with pytest.raises(NotAllowed) as refused:
            await engagements.confirm_completion(demand.id, user)
        assert refused.value.message_id == message_id
    await engagements.confirm_completion(demand.id, c.owner)
    assert await status_of(demand) is S.COMPLETED
    assert (await Engagement.get(demand_id=demand.id)).completed_at is not None
    [row] = await audited(demand, S.COMPLETED)
    assert (row.actor_id, row.before) == (c.owner.id, {"status": "delivered"})


async def test_dispute(database: str) -> None:
    c = await cast()
    demand = await in_status(c, S.CONTRACTED)
    with pytest.raises(InvalidTransition):
        await engagements.dispute(demand.id, c.owner, "还没交付就要争议")
    await acknowledge(demand, c.reviewer)
    await engagements.mark_delivered(demand.id, c.inst)
    with pytest.raises(NotAllowed) as refused:
        await engagements.dispute(demand.id, c.inst, "机构自己争议")
    assert refused.value.message_id == "engagement.owner_only"
    for reason in ("", " 差 ", "长" * (engagements.COMMENT_MAX + 1)):
        with pytest.raises(ValidationFailed):
            await engagements.dispute(demand.id, c.owner, reason)
    assert await status_of(demand) is S.DELIVERED
    await engagements.dispute(demand.id, c.owner, "报告缺少第三批样品")
    assert await status_of(demand) is S.DISPUTED
    [reason] = await audited(demand, "dispute_reason")
    assert reason.after == {"reason": "报告缺少第三批样品"}
    with pytest.raises(InvalidTransition):
        await engagements.dispute(demand.id, c.owner, "再争议一次")


@pytest.mark.parametrize("completed", [True, False], ids=["completed", "reopened"])
async def test_resolve_dispute(database: str, completed: bool) -> None:
    c = await cast()
    demand = await in_status(c, S.DELIVERED)
    with pytest.raises(InvalidTransition):  # nothing to resolve yet
        await engagements.resolve_dispute(demand.id, c.admin, completed=completed)
    await engagements.dispute(demand.id, c.owner, "报告缺少第三批样品")
    suspended = await make_staff(902, Role.ADMIN, "停职管理")
    suspended.status = UserStatus.SUSPENDED
    for user in (c.reviewer, c.owner, c.inst, suspended):
        with pytest.raises(NotAllowed) as refused:
            await engagements.resolve_dispute(demand.id, user, completed=completed)
        assert refused.value.message_id == "engagement.admin_only"
    await engagements.resolve_dispute(demand.id, c.admin, completed=completed)
    target = S.COMPLETED if completed else S.CONTRACTED
    assert await status_of(demand) is target
    completed_at = (await Engagement.get(demand_id=demand.id)).completed_at
    assert (completed_at is not None) is completed
    row = (await audited(demand, target))[-1]
    assert (row.actor_id, row.before) == (ADMIN_ID, {"status": "disputed"})
    with pytest.raises(InvalidTransition):
        await engagements.resolve_dispute(demand.id, c.admin, completed=not completed)


async def test_feedback_once_after_completion(database: str) -> None:
    c = await cast()
    demand = await in_status(c, S.DELIVERED)
    with pytest.raises(NotAllowed) as refused:
        await engagements.give_feedback(demand.id, c.owner, SCORES, "solved", None)
    assert refused.value.message_id == "feedback.not_completed"
    await engagements.confirm_completion(demand.id, c.owner)
    with pytest.raises(NotAllowed):
        await engagements.give_feedback(demand.id, c.inst, SCORES, "solved", None)
    missing = {k: v for k, v in SCORES.items() if k != "timeliness"}
    bad: list[tuple[dict[str, int], str, str | None, str]] = [
        ({**SCORES, "quality": 6}, "solved", None, "feedback.score_range"),
        ({**SCORES, "overall": 0}, "solved", None, "feedback.score_range"),
        (missing, "solved", None, "feedback.score_range"),
        ({**SCORES, "extra": 3}, "solved", None, "feedback.score_range"),
        (SCORES, "great", None, "feedback.outcome_unknown"),
        (SCORES, "partly", "长" * 501, "demand.too_long"),
    ]
    for scores, outcome, comment, message_id in bad:
        with pytest.raises(ValidationFailed) as refused:
            await engagements.give_feedback(demand.id, c.owner, scores, outcome, comment)
        assert refused.value.message_id == message_id
    assert not await Feedback.exists()
    await engagements.give_feedback(demand.id, c.owner, SCORES, "partly", "报告及时")
    with pytest.raises(AlreadyDecided) as refused:
        await engagements.give_feedback(demand.id, c.owner, SCORES, "solved", None)
    assert refused.value.message_id == "feedback.already"
    [feedback] = await Feedback.all()
    assert (feedback.overall, feedback.quality, feedback.outcome) == (5, 4, "partly")
    assert await status_of(demand) is S.COMPLETED


# -- relay, take-over, complaints --------------------------------------------------------


async def test_take_over_a_relayed_demand(database: str) -> None:
    c = await cast()
    assistant = await make_assistant(501, "刘助理")
    relayed = await demands.submit(
        assistant, draft(enterprise=c.owner.organization_id), PLATFORM, TODAY
    )
    demand = relayed.demand
    assert (demand.owner_id, demand.submitted_by_id) == (c.owner.organization_id, assistant.id)
    assert demands.is_owner_side(assistant, demand) and demands.is_owner_side(c.owner, demand)
    for user in (assistant, c.stranger, c.inst):
        with pytest.raises(NotAllowed):
            await relay.take_over(demand.id, user)
    taken = await relay.take_over(demand.id, c.owner)
    assert taken.submitted_by_id == c.owner.id
    [row] = await audited(demand, "taken_over")
    assert (row.before, row.after) == (
        {"submitted_by": assistant.id},
        {"submitted_by": c.owner.id},
    )
    with pytest.raises(InvalidTransition) as refused:
        await relay.take_over(demand.id, c.owner)
    assert refused.value.message_id == "demand.already_yours"
    assert not demands.is_owner_side(assistant, taken)
    with pytest.raises(NotAllowed):  # the assistant lost the owner's rights
        await market.withdraw(demand.id, assistant)
    await market.withdraw(demand.id, c.owner)
    assert await status_of(demand) is S.WITHDRAWN


async def test_complaints(database: str) -> None:  # Jiangsu art. 31
    c = await cast()
    offered = await published_demand(c.owner, c.reviewer)
    await offer(offered, c.inst)
    outsider = await make_member(303, "钱工", Role.INSTITUTION, "无关机构")
    for user, institution in ((c.owner, outsider), (c.stranger, c.inst), (c.owner, c.owner)):
        with pytest.raises(NotAllowed) as refused:
            await complaints.file(user, institution.organization_id or 0, "报价后一直联系不上。")
        assert refused.value.message_id == "complaint.not_dealt_with"
    with pytest.raises(ValidationFailed):
        await complaints.file(c.owner, c.inst.organization_id or 0, "太慢")
    complaint, _ = await complaints.file(
        c.owner, c.inst.organization_id or 0, "报价后一直联系不上，耽误了工期。"
    )
    await matched_demand(c.owner, c.reviewer, c.rival)  # matched counts as dealt with
    await complaints.file(c.owner, c.rival.organization_id or 0, "交付的报告格式不符合要求。")
    for user in (c.reviewer, c.owner):
        with pytest.raises(NotAllowed) as refused:
            await complaints.decide(complaint.id, user, upheld=True)
        assert refused.value.message_id == "complaint.admin_only"
    second_admin = await make_staff(901, Role.ADMIN, "吴管理")
    decided = await complaints.decide(complaint.id, c.admin, upheld=True)
    assert (decided.status, decided.decided_by_id) == (ComplaintStatus.UPHELD, ADMIN_ID)
    with pytest.raises(AlreadyDecided) as refused:
        await complaints.decide(complaint.id, second_admin, upheld=False)
    assert refused.value.message_id == "complaint.already_decided"
    assert (await Complaint.get(id=complaint.id)).status is ComplaintStatus.UPHELD


def test_a_boolean_is_not_a_score() -> None:
    with pytest.raises(ValidationFailed):
        engagements.check_feedback(
            {"overall": True, "quality": 5, "timeliness": 5, "professionalism": 5},  # type: ignore[dict-item]
            "solved",
            None,
        )
