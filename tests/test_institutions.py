"""Institution tiers (Shenyang art. 7) and sanctions (Rugao art. 21): the state machines.

Every legal and illegal move of a tier and of an institution's status, the public notice
closed by the daily job on an explicit date, objections decided once, and what a suspended
or revoked institution may no longer do. Chat paths are in test_institutions_chat.py.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from models import market, matching, revocation, tiers
from models.demand_entities import Demand, DemandStatus
from models.entities import AuditLog, InstitutionTier, Organization, OrgStatus, Role, User
from models.errors import AlreadyDecided, InvalidTransition, NotAllowed, ValidationFailed
from models.events import InstitutionSanctioned, NoticeOpened, NoticeSettled, TierChanged
from models.institution_entities import (
    ObjectionStatus,
    PromotionStatus,
    SanctionKind,
    TierObjection,
    TierPromotion,
)
from tests.conftest import ADMIN_ID, make_staff
from tests.demand_support import TODAY, make_member, matched_demand, published_demand
from tests.lifecycle_support import offer

T = InstitutionTier
NOTICE_DAYS = 7
# Shenyang art. 7, written out independently of tiers.targets: one step up, any step down.
IMMEDIATE = {(T.CULTIVATING, T.SERVICE), (T.SERVICE, T.CULTIVATING), (T.VOUCHER, T.SERVICE),
             (T.VOUCHER, T.CULTIVATING)}  # fmt: skip
UNDER_NOTICE = {(T.SERVICE, T.VOUCHER)}
K = SanctionKind
S = OrgStatus
# Rugao art. 21: suspension may be lifted, revocation is final.
LEGAL_SANCTIONS = {(S.ACTIVE, K.SUSPEND): S.SUSPENDED, (S.ACTIVE, K.REVOKE): S.REVOKED,
                   (S.SUSPENDED, K.REINSTATE): S.ACTIVE, (S.SUSPENDED, K.REVOKE): S.REVOKED}  # fmt: skip
NOTE = "多次被投诉，经核查属实。"


async def _admin() -> User:
    return await make_staff(ADMIN_ID, Role.ADMIN, "周管理")


async def _institution(tier: T = T.SERVICE, user_id: int = 301) -> User:
    return await make_member(user_id, "张工", Role.INSTITUTION, "南通检测中心", tier=tier)


async def _audits(org_id: int, action: str) -> list[AuditLog]:
    return await AuditLog.filter(
        subject_type="organization", subject_id=str(org_id), action=action
    )


async def _notice(admin: User, rep: User) -> TierPromotion:
    assert rep.organization_id is not None
    _, promotion, _ = await tiers.change_tier(
        admin, rep.organization_id, T.VOUCHER, today=TODAY, notice_days=NOTICE_DAYS
    )
    assert promotion is not None
    return promotion


@pytest.mark.parametrize("start", list(T))
@pytest.mark.parametrize("target", list(T))
async def test_every_tier_move(database: str, start: T, target: T) -> None:
    admin, rep = await _admin(), await _institution(start)
    org_id = rep.organization_id
    assert org_id is not None
    if (start, target) not in IMMEDIATE | UNDER_NOTICE:
        with pytest.raises(InvalidTransition):
            await tiers.change_tier(admin, org_id, target, today=TODAY, notice_days=NOTICE_DAYS)
        assert (await Organization.get(id=org_id)).tier is start
        assert await AuditLog.filter(subject_type="organization").count() == 0
        return
    org, promotion, events = await tiers.change_tier(
        admin, org_id, target, today=TODAY, notice_days=NOTICE_DAYS
    )
    if (start, target) in UNDER_NOTICE:
        # Not yet: the notice must run its days first.
        assert org.tier is start and promotion is not None
        assert promotion.notice_ends_on == TODAY + timedelta(days=NOTICE_DAYS)
        assert events == [NoticeOpened(promotion.id)]
        assert len(await _audits(org_id, "tier.notice_opened")) == 1
    else:
        assert org.tier is target and promotion is None
        raised = tiers.ORDER.index(target) > tiers.ORDER.index(start)
        assert events == [TierChanged(org_id, target.value, raised)]
        [row] = await _audits(org_id, "tier.changed")
        assert row.before == {"tier": start.value} and row.after == {"tier": target.value}


@pytest.mark.parametrize("status", [S.SUSPENDED, S.REVOKED])
async def test_only_an_active_institution_changes_tier(database: str, status: S) -> None:
    admin, rep = await _admin(), await _institution(T.CULTIVATING)
    assert rep.organization_id is not None
    await Organization.filter(id=rep.organization_id).update(status=status)
    with pytest.raises(InvalidTransition):
        await tiers.change_tier(
            admin, rep.organization_id, T.SERVICE, today=TODAY, notice_days=NOTICE_DAYS
        )


async def test_no_tier_change_under_notice_and_only_admins_change_tiers(database: str) -> None:
    admin, rep = await _admin(), await _institution()
    assert rep.organization_id is not None
    reviewer = await make_staff(201, Role.REVIEWER, "李审核")
    with pytest.raises(NotAllowed):
        await tiers.change_tier(reviewer, rep.organization_id, T.CULTIVATING, today=TODAY,
                                notice_days=NOTICE_DAYS)  # fmt: skip
    await _notice(admin, rep)
    for target in (T.CULTIVATING, T.VOUCHER):
        with pytest.raises(InvalidTransition) as refused:
            await tiers.change_tier(
                admin, rep.organization_id, target, today=TODAY, notice_days=NOTICE_DAYS
            )
        assert refused.value.message_id == "tier.under_notice"


async def test_notice_takes_effect_when_it_ends_without_objection_once(database: str) -> None:
    admin, rep = await _admin(), await _institution()
    promotion = await _notice(admin, rep)
    assert await tiers.close_notices(promotion.notice_ends_on - timedelta(days=1)) == []
    assert (await Organization.get(id=rep.organization_id)).tier is T.SERVICE
    # Two workers run the daily job at once: one closes it.
    runs = await asyncio.gather(
        tiers.close_notices(promotion.notice_ends_on),
        tiers.close_notices(promotion.notice_ends_on),
    )
    assert sorted(len(run) for run in runs) == [0, 1]
    assert (await Organization.get(id=rep.organization_id)).tier is T.VOUCHER
    assert (await TierPromotion.get(id=promotion.id)).status is PromotionStatus.EFFECTIVE
    assert len(await _audits(promotion.organization_id, "tier.notice_effective")) == 1
    assert await tiers.close_notices(promotion.notice_ends_on + timedelta(days=1)) == []


async def test_an_upheld_objection_cancels_the_promotion(database: str) -> None:
    admin, rep = await _admin(), await _institution()
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    promotion = await _notice(admin, rep)
    objection, _ = await tiers.object_to(owner, promotion.id, "该机构检测报告造假。", today=TODAY)
    _, events = await tiers.decide(admin, objection.id, upheld=True)
    assert NoticeSettled(promotion.id) in events
    assert (await TierPromotion.get(id=promotion.id)).status is PromotionStatus.CANCELLED
    assert await tiers.close_notices(promotion.notice_ends_on) == []
    assert (await Organization.get(id=rep.organization_id)).tier is T.SERVICE
    assert len(await _audits(promotion.organization_id, "tier.notice_cancelled")) == 1


async def test_dismissed_objections_let_it_take_effect_open_ones_make_it_wait(
    database: str,
) -> None:
    admin, rep = await _admin(), await _institution()
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    promotion = await _notice(admin, rep)
    first, _ = await tiers.object_to(owner, promotion.id, "报价过高，服务一般。", today=TODAY)
    second, _ = await tiers.object_to(owner, promotion.id, "曾延迟交付报告。", today=TODAY)
    await tiers.decide(admin, first.id, upheld=False)
    # An objection still undecided when the notice ends: it waits for the admin.
    assert await tiers.close_notices(promotion.notice_ends_on) == []
    await tiers.decide(admin, second.id, upheld=False)
    assert await tiers.close_notices(promotion.notice_ends_on + timedelta(days=1)) == [
        NoticeSettled(promotion.id)
    ]
    assert (await Organization.get(id=rep.organization_id)).tier is T.VOUCHER


async def test_objections_are_checked(database: str) -> None:
    admin, rep = await _admin(), await _institution()
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    promotion = await _notice(admin, rep)
    for reason in ("太短", "长" * 501):
        with pytest.raises(ValidationFailed):
            await tiers.object_to(owner, promotion.id, reason, today=TODAY)
    with pytest.raises(InvalidTransition) as closed:
        await tiers.object_to(
            owner, promotion.id, "期满后的异议。", today=promotion.notice_ends_on
        )
    assert closed.value.message_id == "objection.closed"
    pending = await User.create(id=555, first_name="新人")
    with pytest.raises(NotAllowed):
        await tiers.object_to(pending, promotion.id, "我也有意见。", today=TODAY)
    objection, _ = await tiers.object_to(owner, promotion.id, "x" * 500, today=TODAY)
    with pytest.raises(NotAllowed):
        await tiers.decide(owner, objection.id, upheld=True)


async def test_two_admins_deciding_one_objection_decide_once(database: str) -> None:
    admin, rep = await _admin(), await _institution()
    other = await make_staff(902, Role.ADMIN, "吴管理")
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    promotion = await _notice(admin, rep)
    objection, _ = await tiers.object_to(owner, promotion.id, "该机构检测报告造假。", today=TODAY)
    results = await asyncio.gather(
        tiers.decide(admin, objection.id, upheld=True),
        tiers.decide(other, objection.id, upheld=False),
        return_exceptions=True,
    )
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(losses) == 1 and isinstance(losses[0], AlreadyDecided)
    decided = await TierObjection.get(id=objection.id)
    assert decided.status is not ObjectionStatus.OPEN
    audits = await AuditLog.filter(subject_type="tier_objection", subject_id=str(objection.id))
    assert len(audits) == 1
    settled = await TierPromotion.get(id=promotion.id)
    upheld = decided.status is ObjectionStatus.UPHELD
    assert settled.status is (PromotionStatus.CANCELLED if upheld else PromotionStatus.NOTICE)


@pytest.mark.parametrize("status", [S.ACTIVE, S.SUSPENDED, S.REVOKED])
@pytest.mark.parametrize("kind", list(K))
async def test_every_sanction_move(database: str, status: S, kind: K) -> None:
    admin, rep = await _admin(), await _institution()
    org_id = rep.organization_id
    assert org_id is not None
    await Organization.filter(id=org_id).update(status=status)
    target = LEGAL_SANCTIONS.get((status, kind))
    reason = {} if kind is K.REINSTATE else {"reason_code": "false_information", "note": NOTE}
    if target is None:
        with pytest.raises(InvalidTransition):
            await revocation.apply(admin, org_id, kind, **reason)
        assert (await Organization.get(id=org_id)).status is status
        assert await AuditLog.filter(subject_type="organization").count() == 0
        return
    org, events = await revocation.apply(admin, org_id, kind, **reason)
    assert org.status is target
    assert events[0] == InstitutionSanctioned(org_id, kind.value, ())
    [row] = await _audits(org_id, f"institution.{target.value}")
    assert row.before == {"status": status.value} and row.actor_id == ADMIN_ID
    if kind is not K.REINSTATE:
        assert row.after and row.after["reason"] == "false_information"


async def test_sanction_reasons_are_rugao_art_21_or_other_with_a_reason(database: str) -> None:
    admin, rep = await _admin(), await _institution()
    assert rep.organization_id is not None
    assert len(revocation.REASONS) == 8 and revocation.REASONS[-1] == "other"
    bad = [
        {"reason_code": "bored", "note": NOTE},
        {"reason_code": "other", "note": NOTE},  # other needs its own reason
        {"reason_code": "other", "reason": "短", "note": NOTE},
        {"reason_code": "data_leak", "note": "短"},
    ]
    for params in bad:
        with pytest.raises(ValidationFailed):
            await revocation.apply(admin, rep.organization_id, K.SUSPEND, **params)  # type: ignore[arg-type]
    with pytest.raises(NotAllowed):
        await revocation.apply(rep, rep.organization_id, K.SUSPEND, reason_code="data_leak",
                               note=NOTE)  # fmt: skip
    org, _ = await revocation.apply(
        admin,
        rep.organization_id,
        K.SUSPEND,
        reason_code="other",
        reason="拒不整改问题",
        note=NOTE,
    )
    assert org.status is S.SUSPENDED


async def test_revocation_cancels_a_notice_and_lists_open_engagements(database: str) -> None:
    admin, rep = await _admin(), await _institution()
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    reviewer = await make_staff(201, Role.REVIEWER, "李审核")
    matched = await matched_demand(owner, reviewer, rep)
    await published_demand(owner, reviewer)  # not this institution's engagement
    promotion = await _notice(admin, rep)
    assert rep.organization_id is not None
    org, events = await revocation.apply(
        admin, rep.organization_id, K.REVOKE, reason_code="data_leak", note=NOTE
    )
    assert events == [
        InstitutionSanctioned(org.id, "revoke", (matched.reference,)),
        NoticeSettled(promotion.id),
    ]
    assert (await TierPromotion.get(id=promotion.id)).status is PromotionStatus.CANCELLED
    assert org.tier is T.SERVICE


@pytest.mark.parametrize("status", [S.SUSPENDED, S.REVOKED])
async def test_a_sanctioned_institution_receives_and_serves_no_demands(
    database: str, status: S
) -> None:
    admin, rep = await _admin(), await _institution()
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    reviewer = await make_staff(201, Role.REVIEWER, "李审核")
    await Organization.filter(id=rep.organization_id).update(service_fields=["testing"])
    demand = await published_demand(owner, reviewer, category="testing")
    assert [o.id for o in await matching.recommend(demand, 10)] == [rep.organization_id]
    kind = K.SUSPEND if status is S.SUSPENDED else K.REVOKE
    assert rep.organization_id is not None
    await revocation.apply(admin, rep.organization_id, kind, reason_code="incapable", note=NOTE)
    assert await matching.recommend(await Demand.get(id=demand.id), 10) == []
    with pytest.raises(NotAllowed) as refused:
        await market.serving_institution(await User.get(id=rep.id))
    assert refused.value.message_id == "intent.institution_inactive"
    assert (await Demand.get(id=demand.id)).status is DemandStatus.PUBLISHED


async def test_an_offer_of_a_suspended_institution_cannot_be_accepted(database: str) -> None:
    admin, rep = await _admin(), await _institution()
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    reviewer = await make_staff(201, Role.REVIEWER, "李审核")
    demand = await published_demand(owner, reviewer)
    intent = await offer(demand, rep)
    assert rep.organization_id is not None
    await revocation.apply(
        admin, rep.organization_id, K.SUSPEND, reason_code="incapable", note=NOTE
    )
    with pytest.raises(InvalidTransition) as refused:
        await market.accept(intent.id, owner)
    assert refused.value.message_id == "intent.provider_inactive"
    assert (await Demand.get(id=demand.id)).status is DemandStatus.PUBLISHED
