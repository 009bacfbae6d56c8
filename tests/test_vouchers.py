"""Innovation vouchers (Shenyang art. 7, Jiangsu art. 22 and 30, Rugao art. 12(4)): the state
machine, the caps, the ledger, races and who may do what. Chat paths: test_vouchers_chat.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pydantic
import pytest

from models import engagements, review, revocation, voucher_decisions, vouchers
from models.demand_entities import Demand, DemandStatus
from models.entities import AuditLog, Organization, OrgStatus, Review, ReviewStatus, User
from models.errors import (
    AlreadyDecided,
    DomainError,
    InvalidTransition,
    NotAllowed,
    ValidationFailed,
)
from models.events import ReviewDecided, ReviewRequested, VoucherChanged
from models.institution_entities import SanctionKind
from models.platform import VoucherConfig
from models.voucher_entities import Voucher, VoucherStatus
from tests.demand_support import PLATFORM, TODAY, matched_demand
from tests.lifecycle_support import SCORES, Cast, cast, in_status

V = VoucherStatus
CFG = VoucherConfig()
PURPOSE = "红外光谱检测费用补贴"
# The voucher's life, written out independently of vouchers.TRANSITIONS: which operation is
# legal from which status, and where it leads.
LEGAL = {
    (V.APPLIED, "grant"): V.GRANTED,
    (V.APPLIED, "refuse"): V.REFUSED,
    (V.APPLIED, "withdraw"): V.WITHDRAWN,
    (V.GRANTED, "withdraw"): V.WITHDRAWN,
    (V.GRANTED, "redeem"): V.REDEEM_REQUESTED,
    (V.REDEEM_REQUESTED, "approve_redemption"): V.REDEEMED,
    (V.REDEEM_REQUESTED, "refuse_redemption"): V.GRANTED,
}
OPERATIONS = ("grant", "refuse", "withdraw", "redeem", "approve_redemption", "refuse_redemption")


async def rated(c: Cast) -> Demand:
    """A completed engagement the owner has rated (the contract: 30,000 yuan)."""
    demand = await in_status(c, DemandStatus.COMPLETED)
    await engagements.give_feedback(demand.id, c.owner, SCORES, "solved", None)
    return demand


async def applied(c: Cast, demand: Demand, amount: str = "10000") -> Voucher:
    voucher, _ = await vouchers.apply(c.owner, demand.id, amount, PURPOSE, today=TODAY, config=CFG)
    return voucher


async def decide(c: Cast, voucher: Voucher, subject: str, approve: bool) -> None:
    waiting = await Review.filter(subject_type=subject, subject_id=voucher.id).order_by("-id")
    if not waiting:
        raise InvalidTransition("voucher.invalid_transition")
    await review.decide(
        waiting[0].id, c.reviewer.id, approve=approve, reason="材料不全", platform=PLATFORM
    )


def operation(c: Cast, voucher: Voucher, name: str) -> Callable[[], Awaitable[object]]:
    app, red = vouchers.APPLICATION, vouchers.REDEMPTION
    return {
        "grant": lambda: voucher_decisions.grant(c.reviewer, voucher.id, None, CFG),
        "refuse": lambda: decide(c, voucher, app, approve=False),
        "withdraw": lambda: vouchers.withdraw(c.owner, voucher.id),
        "redeem": lambda: vouchers.request_redemption(c.inst, voucher.id),
        "approve_redemption": lambda: decide(c, voucher, red, approve=True),
        "refuse_redemption": lambda: decide(c, voucher, red, approve=False),
    }[name]


async def voucher_in(c: Cast, status: VoucherStatus) -> Voucher:
    """A voucher brought to `status` through the domain functions."""
    voucher = await applied(c, await rated(c))
    path = {
        V.APPLIED: [],
        V.GRANTED: ["grant"],
        V.REFUSED: ["refuse"],
        V.WITHDRAWN: ["withdraw"],
        V.REDEEM_REQUESTED: ["grant", "redeem"],
        V.REDEEMED: ["grant", "redeem", "approve_redemption"],
    }[status]
    for step in path:
        await operation(c, voucher, step)()
    voucher = await Voucher.get(id=voucher.id)
    assert voucher.status is status
    return voucher


@pytest.mark.parametrize("start", list(V))
@pytest.mark.parametrize("name", OPERATIONS)
async def test_every_operation_from_every_status(
    database: str, start: VoucherStatus, name: str
) -> None:
    c = await cast()
    voucher = await voucher_in(c, start)
    audits = await AuditLog.filter(subject_type="voucher").count()
    if (start, name) not in LEGAL:
        with pytest.raises(DomainError):
            await operation(c, voucher, name)()
        assert (await Voucher.get(id=voucher.id)).status is start
        assert await AuditLog.filter(subject_type="voucher").count() == audits
        return
    await operation(c, voucher, name)()
    assert (await Voucher.get(id=voucher.id)).status is LEGAL[(start, name)]
    assert await AuditLog.filter(subject_type="voucher").count() == audits + 1


async def test_application_grant_redemption_with_events_and_reviews(database: str) -> None:
    c = await cast()
    demand = await rated(c)
    voucher, events = await vouchers.apply(
        c.owner, demand.id, "12,000元", PURPOSE, today=TODAY, config=CFG
    )
    assert voucher.year == TODAY.year and voucher.amount_requested == Decimal("12000.00")
    card = await Review.get(subject_type="voucher", subject_id=voucher.id)
    assert events == [VoucherChanged(voucher.id, "applied", c.owner.id), ReviewRequested(card.id)]
    granted, events = await voucher_decisions.grant(c.reviewer, voucher.id, "9000", CFG)
    assert granted.amount_granted == Decimal("9000.00") and granted.decided_by_id == c.reviewer.id
    assert events == [ReviewDecided(card.id), VoucherChanged(voucher.id, "granted", c.reviewer.id)]
    assert (await Review.get(id=card.id)).status is ReviewStatus.APPROVED
    events = await vouchers.request_redemption(c.inst, voucher.id)
    redemption = await Review.get(subject_type="voucher_redemption", subject_id=voucher.id)
    assert events[-1] == ReviewRequested(redemption.id)
    await decide(c, voucher, vouchers.REDEMPTION, approve=False)
    assert (await Voucher.get(id=voucher.id)).reason == "材料不全"
    await vouchers.request_redemption(c.inst, voucher.id)  # asked again: a new round
    rounds = await Review.filter(subject_type="voucher_redemption", subject_id=voucher.id)
    assert sorted(r.round for r in rounds) == [1, 2]
    await decide(c, voucher, vouchers.REDEMPTION, approve=True)
    final = await Voucher.get(id=voucher.id)
    assert final.status is V.REDEEMED and final.redeemed_at is not None


async def test_amount_ratio_and_purpose_are_checked(database: str) -> None:
    c = await cast()
    demand = await rated(c)  # contract 30,000 x ratio 0.5: at most 15,000
    for amount in ("0", "-5", "abc", "15000.01"):
        with pytest.raises(ValidationFailed):
            await applied(c, demand, amount)
    for purpose in ("短", "x" * 501):
        with pytest.raises(ValidationFailed):
            await vouchers.apply(c.owner, demand.id, "100", purpose, today=TODAY, config=CFG)
    assert await Voucher.all().count() == 0
    assert (await applied(c, demand, "15000")).amount_requested == Decimal(15000)


async def test_one_live_voucher_per_engagement(database: str) -> None:
    c = await cast()
    demand = await rated(c)
    first = await applied(c, demand)
    with pytest.raises(InvalidTransition) as refused:
        await applied(c, demand)
    assert refused.value.params["reference"] == first.reference
    await vouchers.withdraw(c.owner, first.id)
    second = await applied(c, demand)  # a withdrawn voucher leaves room for a new one
    assert second.status is V.APPLIED


async def test_only_an_active_voucher_tier_institution_takes_vouchers(database: str) -> None:
    c = await cast()
    service_tier = await matched_demand(c.owner, c.reviewer, c.rival)
    with pytest.raises(NotAllowed) as refused:
        await applied(c, service_tier)
    assert refused.value.message_id == "voucher.institution_tier"
    demand = await rated(c)
    voucher = await applied(c, demand)
    await voucher_decisions.grant(c.reviewer, voucher.id, None, CFG)
    assert c.inst.organization_id is not None
    await revocation.apply(
        c.admin, c.inst.organization_id, SanctionKind.REVOKE, reason_code="data_leak",
        note="泄露用户信息，经核查属实。",
    )  # fmt: skip
    with pytest.raises(NotAllowed) as pressing:
        await vouchers.request_redemption(c.inst, voucher.id)
    assert pressing.value.message_id == "voucher.institution_inactive"
    await vouchers.withdraw(c.owner, voucher.id)  # the enterprise may still let it go
    with pytest.raises(NotAllowed) as again:
        await applied(c, demand)
    assert again.value.message_id == "voucher.institution_inactive"
    assert (await Voucher.get(id=voucher.id)).status is V.WITHDRAWN


async def test_redemption_waits_for_completion_and_feedback(database: str) -> None:
    c = await cast()
    delivered = await in_status(c, DemandStatus.DELIVERED)
    voucher = await applied(c, delivered)
    await voucher_decisions.grant(c.reviewer, voucher.id, None, CFG)
    with pytest.raises(NotAllowed) as early:
        await vouchers.request_redemption(c.inst, voucher.id)
    assert early.value.message_id == "voucher.not_completed"
    await engagements.confirm_completion(delivered.id, c.owner)
    with pytest.raises(NotAllowed) as unrated:
        await vouchers.request_redemption(c.inst, voucher.id)
    assert unrated.value.message_id == "voucher.no_feedback"
    assert await vouchers.redeemable(c.inst) == []
    await engagements.give_feedback(delivered.id, c.owner, SCORES, "solved", None)
    assert [v.id for v in await vouchers.redeemable(c.inst)] == [voucher.id]
    await vouchers.request_redemption(c.inst, voucher.id)
    assert (await Voucher.get(id=voucher.id)).status is V.REDEEM_REQUESTED


async def test_enterprise_cap_refusal_quotes_the_room(database: str) -> None:
    c = await cast()
    config = VoucherConfig(enterprise_cap_per_year=Decimal(12000))
    first = await applied(c, await in_status(c, DemandStatus.MATCHED), "10000")
    second = await applied(c, await in_status(c, DemandStatus.MATCHED), "5000")
    await voucher_decisions.grant(c.reviewer, first.id, None, config)
    with pytest.raises(ValidationFailed) as over:
        await voucher_decisions.grant(c.reviewer, second.id, None, config)
    assert over.value.message_id == "voucher.over_enterprise_cap"
    assert over.value.params["room"] == "2,000.00"
    # Nothing was decided: the review still waits and a smaller amount passes.
    assert (await Voucher.get(id=second.id)).status is V.APPLIED
    assert await Review.exists(subject_id=second.id, subject_type="voucher", status="pending")
    with pytest.raises(ValidationFailed):
        await voucher_decisions.grant(c.reviewer, second.id, "6000", config)  # above the request
    granted, _ = await voucher_decisions.grant(c.reviewer, second.id, "2000", config)
    assert granted.amount_granted == Decimal(2000)


async def test_institution_cap_counts_every_enterprise(database: str) -> None:
    c = await cast()
    config = VoucherConfig(institution_cap_per_year=Decimal(15000))
    mine = await applied(c, await in_status(c, DemandStatus.MATCHED), "10000")
    theirs_demand = await matched_demand(c.stranger, c.reviewer, c.inst)
    theirs, _ = await vouchers.apply(
        c.stranger, theirs_demand.id, "8000", PURPOSE, today=TODAY, config=config
    )
    await voucher_decisions.grant(c.reviewer, mine.id, None, config)
    with pytest.raises(ValidationFailed) as over:
        await voucher_decisions.grant(c.reviewer, theirs.id, None, config)
    assert over.value.message_id == "voucher.over_institution_cap"
    assert over.value.params["room"] == "5,000.00"
    await vouchers.withdraw(c.owner, mine.id)  # withdrawn: no longer counted
    await voucher_decisions.grant(c.reviewer, theirs.id, None, config)


async def test_ledger_totals_by_status(database: str) -> None:
    c = await cast()
    a = await applied(c, await in_status(c, DemandStatus.MATCHED), "1000")
    b = await applied(c, await in_status(c, DemandStatus.MATCHED), "2000")
    await applied(c, await in_status(c, DemandStatus.MATCHED), "4000")
    await voucher_decisions.grant(c.reviewer, a.id, "800", CFG)
    await decide(c, b, vouchers.APPLICATION, approve=False)
    book = await vouchers.own_ledger(c.owner, TODAY.year, CFG)
    assert book.totals[V.GRANTED] == (1, Decimal(800))
    assert book.totals[V.REFUSED] == (1, Decimal(2000))
    assert book.totals[V.APPLIED] == (1, Decimal(4000))
    assert book.used == Decimal(800) and book.room == CFG.enterprise_cap_per_year - 800
    theirs = await vouchers.own_ledger(c.inst, TODAY.year, CFG)
    assert theirs.cap == CFG.institution_cap_per_year and theirs.used == Decimal(800)
    assert (await vouchers.own_ledger(c.owner, TODAY.year - 1, CFG)).used == 0
    with pytest.raises(NotAllowed):
        await vouchers.own_ledger(c.reviewer, TODAY.year, CFG)


async def test_an_institutions_reward_ceiling_under_jiangsu_art_30(database: str) -> None:
    c = await cast()
    await voucher_in(c, V.REDEEMED)  # two services of 30,000 yuan, their vouchers redeemed
    await voucher_in(c, V.REDEEMED)
    await voucher_in(c, V.GRANTED)  # not redeemed yet: not counted
    book = await vouchers.own_ledger(c.inst, TODAY.year, CFG)
    assert book.reward == vouchers.Reward(Decimal(60000), Decimal(3000))  # 5 % of 60,000
    capped = CFG.model_copy(update={"reward_cap_per_year": Decimal(2000)})
    assert (await vouchers.own_ledger(c.inst, TODAY.year, capped)).reward == vouchers.Reward(
        Decimal(60000), Decimal(2000)
    )
    assert (await vouchers.own_ledger(c.inst, TODAY.year - 1, CFG)).reward == vouchers.Reward(
        Decimal(0), Decimal(0)
    )
    assert (await vouchers.own_ledger(c.owner, TODAY.year, CFG)).reward is None  # enterprises


async def test_permissions(database: str) -> None:
    c = await cast()
    demand = await rated(c)
    for outsider in (c.stranger, c.inst, c.reviewer, c.rival):
        with pytest.raises(NotAllowed):
            await vouchers.apply(outsider, demand.id, "100", PURPOSE, today=TODAY, config=CFG)
    voucher = await applied(c, demand)
    for outsider in (c.owner, c.inst, c.stranger):
        with pytest.raises(NotAllowed):
            await voucher_decisions.grant(outsider, voucher.id, None, CFG)
    for outsider in (c.stranger, c.inst, c.reviewer):
        with pytest.raises(NotAllowed):
            await vouchers.withdraw(outsider, voucher.id)
    await voucher_decisions.grant(c.admin, voucher.id, None, CFG)  # admins decide too
    for outsider in (c.owner, c.rival, c.reviewer):
        with pytest.raises(NotAllowed):
            await vouchers.request_redemption(outsider, voucher.id)
    suspended = await User.get(id=c.owner.id)
    await User.filter(id=suspended.id).update(status="suspended")
    with pytest.raises(NotAllowed):
        await vouchers.withdraw(await User.get(id=suspended.id), voucher.id)
    assert (await Voucher.get(id=voucher.id)).status is V.GRANTED


async def test_two_reviewers_grant_at_once_one_wins(database: str) -> None:
    c = await cast()
    voucher = await applied(c, await rated(c))
    results = await asyncio.gather(
        voucher_decisions.grant(c.reviewer, voucher.id, "5000", CFG),
        voucher_decisions.grant(c.admin, voucher.id, "7000", CFG),
        return_exceptions=True,
    )
    wins = [r for r in results if not isinstance(r, BaseException)]
    late = [r for r in results if isinstance(r, AlreadyDecided)]
    assert len(wins) == 1 and len(late) == 1, results
    final = await Voucher.get(id=voucher.id)
    assert final.amount_granted in (Decimal(5000), Decimal(7000))
    assert await AuditLog.filter(action="voucher.granted").count() == 1


async def test_grant_and_withdraw_at_once_change_it_once_each(database: str) -> None:
    c = await cast()
    voucher = await applied(c, await rated(c))
    await asyncio.gather(
        voucher_decisions.grant(c.reviewer, voucher.id, None, CFG),
        vouchers.withdraw(c.owner, voucher.id),
        return_exceptions=True,
    )
    final = await Voucher.get(id=voucher.id)
    # Either the grant came first (then the withdrawal of the granted voucher), or the
    # withdrawal did and the grant was told so; never granted while its review is cancelled.
    assert final.status is V.WITHDRAWN
    card = await Review.get(subject_type="voucher", subject_id=voucher.id)
    granted = await AuditLog.filter(action="voucher.granted").count()
    assert card.status is (ReviewStatus.APPROVED if granted else ReviewStatus.CANCELLED)


async def test_two_applications_at_once_make_one_voucher(database: str) -> None:
    c = await cast()
    demand = await rated(c)
    results = await asyncio.gather(applied(c, demand), applied(c, demand), return_exceptions=True)
    assert sum(isinstance(r, Voucher) for r in results) == 1, results
    assert await Voucher.all().count() == 1


async def test_grants_racing_for_the_last_room_of_a_cap(database: str) -> None:
    c = await cast()
    config = VoucherConfig(enterprise_cap_per_year=Decimal(10000))
    first = await applied(c, await in_status(c, DemandStatus.MATCHED), "8000")
    second = await applied(c, await in_status(c, DemandStatus.MATCHED), "8000")
    results = await asyncio.gather(
        voucher_decisions.grant(c.reviewer, first.id, None, config),
        voucher_decisions.grant(c.admin, second.id, None, config),
        return_exceptions=True,
    )
    assert sum(isinstance(r, ValidationFailed) for r in results) == 1, results
    assert await Voucher.filter(status=V.GRANTED).count() == 1


async def test_a_suspended_institution_is_refused_at_grant(database: str) -> None:
    c = await cast()
    voucher = await applied(c, await rated(c))
    await Organization.filter(id=c.inst.organization_id).update(status=OrgStatus.SUSPENDED)
    with pytest.raises(NotAllowed):
        await voucher_decisions.grant(c.reviewer, voucher.id, None, CFG)
    assert (await Voucher.get(id=voucher.id)).status is V.APPLIED


@pytest.mark.parametrize(
    "bad",
    [
        {"subsidy_ratio": 0},
        {"subsidy_ratio": 1.5},
        {"institution_cap_per_year": -1},
        {"enterprise_cap_per_year": 10**9},
        {"cap": 5},
    ],
)
def test_bad_voucher_configuration_is_refused_at_start(bad: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        VoucherConfig.model_validate(bad)
    assert PLATFORM.vouchers.institution_cap_per_year == Decimal(500000)  # Jiangsu art. 30
