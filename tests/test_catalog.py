"""The catalogue's rules without Telegram (issue 9): who writes which kind, review and edits,
hide / retire, search terms, booking slots, refusals counted, concurrent answers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from models import (
    booking_rules,
    catalog_search,
    evaluation,
    listing_fields,
    listings,
    review,
)
from models import listing_requests as requests
from models.entities import Review, ReviewCard, Role, User
from models.errors import InvalidTransition, NotAllowed, ValidationFailed
from models.listing_entities import (
    Booking,
    BookingOutcome,
    Listing,
    ListingKind,
    ListingStatus,
    RequestStatus,
)
from tests.conftest import make_staff
from tests.demand_support import PLATFORM, TODAY, make_member

ZONE = "Asia/Shanghai"


def service(**changes: Any) -> dict[str, Any]:
    """A complete service draft."""
    values: dict[str, Any] = {
        "title": "盐雾腐蚀试验",
        "category": "testing",
        "description": "按 GB/T 10125 做中性盐雾试验，Salt spray test。",
        "fee_basis": "market",
        "price_note": "每批 800 元",
        "turnaround": "7 个工作日",
        "attachments": [],
        "attachments_done": True,
    }
    return values | changes


def instrument(**changes: Any) -> dict[str, Any]:
    """A complete instrument draft."""
    values: dict[str, Any] = {
        "title": "扫描电子显微镜",
        "category": "instruments",
        "model": "SU3500",
        "maker": "Hitachi",
        "location": "材料楼 105",
        "open_hours": "1-5 09:00-17:00",
        "modes": ["onsite", "sample"],
        "training": "yes",
        "fee_basis": "government",
        "rate": "每机时 300 元",
        "bring": "无",
        "booking_notes": "须经培训",
        "attachments": [],
        "attachments_done": True,
    }
    return values | changes


async def _approve(listing: Listing, reviewer: User) -> None:
    waiting = await Review.get(subject_type="listing", subject_id=listing.id, status="pending")
    await ReviewCard.create(
        review_id=waiting.id,
        reviewer_id=reviewer.id,
        message_id=1,
        checklist=list(review.CHECKLIST),
    )
    await review.decide(waiting.id, reviewer.id, approve=True, reason=None, platform=PLATFORM)


async def _people() -> tuple[User, User, User, User]:
    reviewer = await make_staff(401, Role.REVIEWER, "王审核")
    lab = await make_member(301, "张工", Role.INSTITUTION, "南通检测中心")
    team = await make_member(302, "李教授", Role.RESEARCH, "南通大学材料团队")
    owner = await make_member(101, "王经理", Role.ENTERPRISE, "如皋精密机械有限公司")
    return reviewer, lab, team, owner


def test_patent_numbers_are_checked_by_their_check_digit() -> None:
    assert listing_fields.check_patents("ZL201910123456.X, 202020654321.4") == [
        "ZL201910123456.X",
        "202020654321.4",
    ]
    assert listing_fields.check_patents("无") == []
    with pytest.raises(ValidationFailed) as bad:
        listing_fields.check_patents("ZL201910123456.1")
    assert bad.value.params["number"] == "ZL201910123456.1"
    with pytest.raises(ValidationFailed):
        listing_fields.check_patents("CN-12345")


def test_search_terms_refuse_one_character_and_overlong_queries() -> None:
    assert catalog_search.terms_of(" 光谱  ＳＰＥＣＴＲＯ ") == ["光谱", "spectro"]
    for bad in ("光", "x", "", "光谱 a", "x" * 500, "aa bb cc dd ee ff"):
        with pytest.raises(ValidationFailed):
            catalog_search.terms_of(bad)


async def test_each_role_publishes_its_own_kinds(database: str) -> None:
    _, lab, team, owner = await _people()
    with pytest.raises(NotAllowed):
        await listings.submit(owner, ListingKind.SERVICE, service(), PLATFORM)
    with pytest.raises(NotAllowed):
        await listings.submit(lab, ListingKind.ACHIEVEMENT, service(), PLATFORM)
    achievement = {
        "title": "石墨烯导热膜制备技术",
        "category": "tech_transfer",
        "description": "一种石墨烯导热膜的低成本制备方法。",
        "maturity": "pilot",
        "patents": "ZL201910123456.X",
        "transfer_modes": ["licence", "joint"],
        "attachments_done": True,
    }
    listing, _ = await listings.submit(team, ListingKind.ACHIEVEMENT, achievement, PLATFORM)
    assert listing.details["patents"] == ["ZL201910123456.X"]
    with pytest.raises(ValidationFailed):
        await listings.submit(
            team, ListingKind.ACHIEVEMENT, achievement | {"patents": "ZL123"}, PLATFORM
        )


async def test_an_edit_waits_for_review_while_the_old_version_stays_found(database: str) -> None:
    reviewer, lab, _, _ = await _people()
    listing, _ = await listings.submit(lab, ListingKind.SERVICE, service(), PLATFORM)
    await _approve(listing, reviewer)
    edited, _ = await listings.edit(listing.id, lab, service(title="铜加速醋酸盐雾试验"), PLATFORM)
    assert edited.status is ListingStatus.PUBLISHED and edited.title == "盐雾腐蚀试验"
    hits, _ = await catalog_search.search("盐雾", offset=0, limit=5)
    assert [h.listing.title for h in hits] == ["盐雾腐蚀试验"]
    with pytest.raises(InvalidTransition):  # one edit in review at a time
        await listings.edit(listing.id, lab, service(), PLATFORM)
    await _approve(listing, reviewer)
    hits, total = await catalog_search.search("醋酸", offset=0, limit=5)
    assert total == 1 and hits[0].listing.title == "铜加速醋酸盐雾试验"
    assert (await Listing.get(id=listing.id)).pending is None


async def test_hide_show_retire_once_and_only_by_the_owner(database: str) -> None:
    reviewer, lab, team, _ = await _people()
    listing, _ = await listings.submit(lab, ListingKind.SERVICE, service(), PLATFORM)
    await _approve(listing, reviewer)
    with pytest.raises(NotAllowed):
        await listings.move(listing.id, team, "hide")
    outcomes = await asyncio.gather(
        listings.move(listing.id, lab, "hide"),
        listings.move(listing.id, lab, "hide"),
        return_exceptions=True,
    )
    assert sum(isinstance(o, InvalidTransition) for o in outcomes) == 1
    assert (await catalog_search.search("盐雾", offset=0, limit=5))[1] == 0
    await listings.move(listing.id, lab, "show")
    await listings.move(listing.id, lab, "retire")
    with pytest.raises(InvalidTransition):
        await listings.move(listing.id, lab, "show")


async def test_catalogue_browses_by_kind_category_and_township_with_paging(database: str) -> None:
    reviewer, lab, _, _ = await _people()
    for n in range(7):
        made, _ = await listings.submit(
            lab, ListingKind.SERVICE, service(title=f"盐雾试验 {n}"), PLATFORM
        )
        await _approve(made, reviewer)
    made, _ = await listings.submit(lab, ListingKind.INSTRUMENT, instrument(), PLATFORM)
    await _approve(made, reviewer)
    page, total = await catalog_search.browse(
        ListingKind.SERVICE, "testing", "chengnan", offset=5, limit=5
    )
    assert total == 7 and len(page) == 2
    assert (await catalog_search.browse(None, None, "baipu", offset=0, limit=5))[1] == 0
    assert (await catalog_search.browse(ListingKind.INSTRUMENT, None, None, offset=0, limit=5))[
        1
    ] == 1


async def test_booking_slots_refusals_and_one_accept(database: str) -> None:
    reviewer, lab, _, owner = await _people()
    made, _ = await listings.submit(lab, ListingKind.INSTRUMENT, instrument(), PLATFORM)
    await _approve(made, reviewer)
    listing = await Listing.get(id=made.id)
    day = TODAY + timedelta(days=2)
    while day.isoweekday() > 5:
        day += timedelta(days=1)
    for bad in (
        "明天上午",
        f"{TODAY.isoformat()} 09:00-10:00",
        f"{day} 08:00-10:00",
        f"{day} 11:00-10:00",
        f"{TODAY + timedelta(days=400)} 09:00-10:00",
    ):
        with pytest.raises(ValidationFailed):
            requests.parse_slot(bad, listing, PLATFORM, ZONE, TODAY)
    slot = requests.parse_slot(f"{day} 09:00-11:00", listing, PLATFORM, ZONE, TODAY)
    assert slot.starts_at.tzinfo is not None and (slot.ends_at - slot.starts_at).seconds == 7200
    with pytest.raises(NotAllowed):  # the owner books their own instrument
        await requests.book(listing.id, lab, "onsite", slot, "自己用一下仪器", PLATFORM)
    first, _ = await requests.book(listing.id, owner, "sample", slot, "测试三个样品", PLATFORM)
    second, _ = await requests.book(listing.id, owner, "sample", slot, "再测一批样品", PLATFORM)
    outcomes = await asyncio.gather(
        requests.accept("booking", first.id, lab, PLATFORM, TODAY),
        requests.accept("booking", first.id, lab, PLATFORM, TODAY),
        return_exceptions=True,
    )
    assert sum(isinstance(o, InvalidTransition) for o in outcomes) == 1
    with pytest.raises(ValidationFailed):  # Shenyang art. 10: a refusal needs a reason
        await requests.decline("booking", second.id, lab, " ")
    await requests.decline("booking", second.id, lab, "设备检修")
    # Counted in this year's evaluation: 2 bookings asked, 1 declined (Shenyang art. 10).
    counted = (await evaluation.gather(TODAY.year, ZoneInfo(ZONE)))[lab.organization_id or 0]
    assert (counted.bookings, counted.refusals) == (2, 1)
    done = await Booking.get(id=first.id)
    assert done.status is RequestStatus.ACCEPTED and done.demand_id is not None


async def test_an_instrument_serves_one_booking_at_a_time(database: str) -> None:
    reviewer, lab, _, owner = await _people()
    other = await make_member(102, "李经理", Role.ENTERPRISE, "南通新材料有限公司")
    made, _ = await listings.submit(lab, ListingKind.INSTRUMENT, instrument(), PLATFORM)
    await _approve(made, reviewer)
    day = TODAY + timedelta(days=2)
    while day.isoweekday() > 5:
        day += timedelta(days=1)

    def slot(hours: str) -> requests.Slot:
        return requests.parse_slot(f"{day} {hours}", made, PLATFORM, ZONE, TODAY)

    # Two overlapping asks accepted at once: one wins, the other is told the slot is taken.
    book = requests.book
    morning, _ = await book(made.id, owner, "sample", slot("09:00-11:00"), "第一批样品", PLATFORM)
    late, _ = await book(made.id, other, "sample", slot("10:00-12:00"), "第二批样品", PLATFORM)
    outcomes = await asyncio.gather(
        requests.accept("booking", morning.id, lab, PLATFORM, TODAY),
        requests.accept("booking", late.id, lab, PLATFORM, TODAY),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, ValidationFailed)]
    assert len(refused) == 1 and refused[0].message_id == "booking.slot_taken"
    [winner] = await Booking.filter(status=RequestStatus.ACCEPTED)
    loser = late if winner.id == morning.id else morning
    assert (await Booking.get(id=loser.id)).status is RequestStatus.PENDING
    # Back to back with both is not an overlap.
    apart, _ = await book(made.id, other, "sample", slot("12:00-13:00"), "第三批样品", PLATFORM)
    await requests.accept("booking", apart.id, lab, PLATFORM, TODAY)
    # Asking or proposing a taken slot is refused before anything is written.
    with pytest.raises(ValidationFailed) as taken:
        await book(made.id, other, "sample", slot("12:30-13:30"), "再测一批样品", PLATFORM)
    assert taken.value.message_id == "booking.slot_taken"
    assert await Booking.all().count() == 3
    with pytest.raises(ValidationFailed):
        await requests.counter(loser.id, lab, slot("12:00-14:00"))
    await requests.counter(loser.id, lab, slot("14:00-16:00"))
    requester = await User.get(id=loser.user_id)
    await requests.take_counter(loser.id, requester, True, PLATFORM)
    assert await Booking.filter(status=RequestStatus.ACCEPTED).count() == 3


async def test_training_outcomes_and_a_block_after_three_violations(database: str) -> None:
    reviewer, lab, _, owner = await _people()
    made, _ = await listings.submit(lab, ListingKind.INSTRUMENT, instrument(), PLATFORM)
    await _approve(made, reviewer)
    listing = await Listing.get(id=made.id)
    now = datetime.now(UTC)
    slot = requests.Slot(now + timedelta(days=3), now + timedelta(days=3, hours=1))
    # The instrument requires training for on-site use: sample submission stays open.
    with pytest.raises(NotAllowed) as refused:
        await requests.book(listing.id, owner, "onsite", slot, "自测三个样品", PLATFORM)
    assert refused.value.message_id == "booking.training_needed"
    sample, _ = await requests.book(listing.id, owner, "sample", slot, "送样三个样品", PLATFORM)
    await requests.accept("booking", sample.id, lab, PLATFORM, TODAY)
    with pytest.raises(InvalidTransition):  # the slot is not over yet
        await booking_rules.record_outcome(sample.id, lab, BookingOutcome.USED, now)
    await booking_rules.mark_trained(sample.id, lab)
    await booking_rules.mark_trained(sample.id, lab)  # a second press adds nothing
    after = requests.Slot(slot.ends_at, slot.ends_at + timedelta(hours=1))  # slot is taken
    await requests.book(listing.id, owner, "onsite", after, "自测三个样品", PLATFORM)
    # Three past no-shows, each recorded once however often pressed, block booking.
    later = now + timedelta(days=4)
    for n in range(3):
        past = await Booking.create(
            listing_id=listing.id,
            user_id=owner.id,
            organization_id=owner.organization_id,
            mode="sample",
            starts_at=now - timedelta(days=n + 2),
            ends_at=now - timedelta(days=n + 2) + timedelta(hours=1),
            purpose="历史预约",
            status=RequestStatus.ACCEPTED,
        )
        outcomes = await asyncio.gather(
            booking_rules.record_outcome(past.id, lab, BookingOutcome.NO_SHOW, now),
            booking_rules.record_outcome(past.id, lab, BookingOutcome.NO_SHOW, now),
            return_exceptions=True,
        )
        assert sum(isinstance(o, InvalidTransition) for o in outcomes) == 1
    with pytest.raises(NotAllowed) as blocked:
        await requests.book(listing.id, owner, "sample", slot, "再送一次样品", PLATFORM)
    assert blocked.value.message_id == "booking.blocked"
    assert await booking_rules.blocked_until(owner.id, PLATFORM, later) is not None
    far = now + timedelta(days=PLATFORM.catalog.block_days + 1)
    assert await booking_rules.blocked_until(owner.id, PLATFORM, far) is None


async def test_two_reviewers_at_once_publish_a_listing_once(database: str) -> None:
    reviewer, lab, _, _ = await _people()
    other = await make_staff(402, Role.REVIEWER, "李审核")
    listing, _ = await listings.submit(lab, ListingKind.SERVICE, service(), PLATFORM)
    waiting = await Review.get(subject_type="listing", subject_id=listing.id)
    for person in (reviewer, other):
        await ReviewCard.create(
            review_id=waiting.id,
            reviewer_id=person.id,
            message_id=1,
            checklist=list(review.CHECKLIST),
        )
    outcomes = await asyncio.gather(
        review.decide(waiting.id, reviewer.id, approve=True, reason=None, platform=PLATFORM),
        review.decide(waiting.id, other.id, approve=False, reason="信息不实", platform=PLATFORM),
        return_exceptions=True,
    )
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(losers) == 1 and type(losers[0]).__name__ == "AlreadyDecided"
    shown = await Listing.get(id=listing.id)
    approved = not isinstance(outcomes[0], Exception)
    assert shown.status is (ListingStatus.PUBLISHED if approved else ListingStatus.REJECTED)
    # A rejected listing is edited and goes back to review; a published one stays shown.
    edited, events = await listings.edit(
        listing.id, lab, service(price_note="每批 700 元"), PLATFORM
    )
    assert events and edited.status is (
        ListingStatus.PUBLISHED if approved else ListingStatus.SUBMITTED
    )
