"""Listings: written by their owner, reviewed before shown, edited, hidden or retired.

Rugao art. 11, 15: supply information is reviewed before it is published, with the same
checklist as demands. An edit of a published listing goes back to review while the old
version stays in the catalogue (issue 9, item 2); the owner may hide or retire a listing.
Every status change is a compare-and-set, so two presses at once change it once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from models import audit, catalog_search, listing_fields, permissions
from models.entities import Organization, OrgStatus, Review, ReviewStatus, User, UserStatus
from models.errors import InvalidTransition, NotAllowed, NotFound
from models.events import Event, ListingDecided, ReviewDecided, ReviewRequested
from models.listing_entities import Listing, ListingKind, ListingStatus
from models.platform import PlatformConfig

SUBJECT = "listing"
SEARCH = "_search"  # key of the edited version search text in `pending`
S = ListingStatus
# Which status a listing may leave for which (the owner hides, shows again, retires).
OWNER_MOVES: dict[str, tuple[frozenset[ListingStatus], ListingStatus]] = {
    "hide": (frozenset({S.PUBLISHED}), S.HIDDEN),
    "show": (frozenset({S.HIDDEN}), S.PUBLISHED),
    "retire": (frozenset({S.PUBLISHED, S.HIDDEN, S.REJECTED}), S.RETIRED),
}


def kinds_for(user: User) -> tuple[ListingKind, ...]:
    """The kinds this user may publish: institutions services and instruments, research
    teams achievements (DESIGN §1)."""
    permissions.require("listing.write", user)
    if user.organization_id is None or user.role is None:
        raise NotAllowed("listing.not_provider")
    return listing_fields.KINDS_OF_ROLE.get(user.role, ())


async def _owner_org(user: User, kind: ListingKind) -> Organization:
    if kind not in kinds_for(user):
        raise NotAllowed("listing.kind_not_yours")
    org = await Organization.get_or_none(id=user.organization_id)
    if org is None or org.status is not OrgStatus.ACTIVE:
        raise NotAllowed("listing.not_provider")
    return org


def _split(values: dict[str, Any]) -> dict[str, Any]:
    """Listing columns and details from checked answers."""
    details = {k: v for k, v in values.items() if k not in listing_fields.COLUMNS}
    return {
        "title": values["title"],
        "category": values["category"],
        "attachments": values.get("attachments", []),
        "details": details,
    }


async def _open_review(listing_id: int, platform: PlatformConfig) -> Review:
    last = await Review.filter(subject_type=SUBJECT, subject_id=listing_id).order_by("-round")
    return await Review.create(
        subject_type=SUBJECT,
        subject_id=listing_id,
        stage=platform.review.stages_for(SUBJECT)[0],
        round=(last[0].round + 1) if last else 1,
    )


async def submit(
    user: User, kind: ListingKind, draft: dict[str, Any], platform: PlatformConfig
) -> tuple[Listing, list[Event]]:
    """File a new listing and open its first review stage."""
    org = await _owner_org(user, kind)
    values = _split(listing_fields.checked(kind, draft, platform))
    async with in_transaction():
        listing = await Listing.create(
            kind=kind, owner=org, created_by=user, township=org.township, **values
        )
        listing.search_text = catalog_search.text_of(listing, org.name, platform)
        await listing.save(update_fields=["search_text"])
        review = await _open_review(listing.id, platform)
        await audit.record(user.id, "listing.submitted", SUBJECT, listing.id, after=values)
    return listing, [ReviewRequested(review.id)]


async def get(listing_id: int) -> Listing:
    """The listing, or NotFound."""
    listing = await Listing.get_or_none(id=listing_id)
    if listing is None:
        raise NotFound("listing.not_found")
    return listing


def is_owner(user: User, listing: Listing) -> bool:
    """Active members of the owning organisation speak for its listings."""
    return user.status is UserStatus.ACTIVE and user.organization_id == listing.owner_id


async def owned(listing_id: int, user: User) -> Listing:
    """The listing, if this user speaks for its owner."""
    listing = await get(listing_id)
    permissions.require("listing.manage", user, related=is_owner(user, listing))
    return listing


def draft_of(listing: Listing) -> dict[str, Any]:
    """The answers of a listing (its pending edit if one waits) as a draft to edit."""
    current = {
        "title": listing.title,
        "category": listing.category,
        "attachments": list(listing.attachments),
        **listing.details,
    }
    edited = {k: v for k, v in (listing.pending or {}).items() if k != SEARCH}
    return {**current, **edited, "attachments_done": True}


async def edit(
    listing_id: int, user: User, draft: dict[str, Any], platform: PlatformConfig
) -> tuple[Listing, list[Event]]:
    """Send an edit to review: a published (or hidden) listing keeps showing its old version
    until the edit is approved; a rejected one is submitted again."""
    listing = await owned(listing_id, user)
    values = listing_fields.checked(listing.kind, draft, platform)
    async with in_transaction():
        locked = await Listing.filter(id=listing_id).select_for_update().first()
        if locked is None or locked.status is S.RETIRED:
            raise InvalidTransition("listing.retired", reference=listing.reference)
        if await Review.exists(
            subject_type=SUBJECT, subject_id=listing_id, status=ReviewStatus.PENDING
        ):
            raise InvalidTransition("listing.in_review", reference=listing.reference)
        if locked.status is S.REJECTED:
            split = _split(values)
            await Listing.filter(id=listing_id).update(status=S.SUBMITTED, pending=None, **split)
        else:
            # The edited version's search text rides along, applied when it is shown.
            preview = Listing(kind=listing.kind, owner_id=listing.owner_id, **_split(values))
            org = await Organization.get(id=listing.owner_id)
            search = catalog_search.text_of(preview, org.name, platform)
            await Listing.filter(id=listing_id).update(pending={**values, SEARCH: search})
        review = await _open_review(listing_id, platform)
        await audit.record(user.id, "listing.edited", SUBJECT, listing_id, after=values)
    fresh = await get(listing_id)
    if fresh.status is S.SUBMITTED:
        await _refresh_search(fresh, platform)
    return fresh, [ReviewRequested(review.id)]


async def _refresh_search(listing: Listing, platform: PlatformConfig) -> None:
    org = await Organization.get(id=listing.owner_id)
    text = catalog_search.text_of(listing, org.name, platform)
    await Listing.filter(id=listing.id).update(search_text=text)


async def conclude_review(
    listing_id: int, approved: bool, reason: str | None, actor_id: int
) -> list[Event]:
    """The last review stage decided: publish the listing or its edit, or refuse it."""
    listing = await get(listing_id)
    edited = listing.pending is not None
    if approved and edited:
        pending = dict(listing.pending or {})
        search = str(pending.pop(SEARCH, listing.search_text))
        split = _split(pending)
        await Listing.filter(id=listing_id).update(pending=None, search_text=search, **split)
    elif approved:
        moved = await Listing.filter(id=listing_id, status=S.SUBMITTED).update(
            status=S.PUBLISHED, published_at=datetime.now(UTC)
        )
        if not moved:
            raise InvalidTransition("listing.not_in_review", reference=listing.reference)
    elif edited:
        await Listing.filter(id=listing_id).update(pending=None)  # the shown version stays
    else:
        await Listing.filter(id=listing_id, status=S.SUBMITTED).update(status=S.REJECTED)
    action = "listing.approved" if approved else "listing.rejected"
    await audit.record(actor_id, action, SUBJECT, listing_id, after={"edit": edited})
    return [ListingDecided(listing_id, approved, edited, reason)]


async def move(listing_id: int, user: User, action: str) -> tuple[Listing, list[Event]]:
    """Hide, show again or retire: once, whoever presses twice."""
    if action not in OWNER_MOVES:
        raise NotAllowed("button.forged")
    listing = await owned(listing_id, user)
    sources, target = OWNER_MOVES[action]
    events: list[Event] = []
    async with in_transaction():
        moved = await Listing.filter(id=listing_id, status__in=list(sources)).update(status=target)
        if not moved:
            raise InvalidTransition(
                "listing.cannot_move", reference=listing.reference, status=listing.status.value
            )
        if target is S.RETIRED:
            # A retired listing leaves review too: its waiting cards are closed.
            ids: list[int] = await Review.filter(  # type: ignore[assignment]
                subject_type=SUBJECT, subject_id=listing_id, status=ReviewStatus.PENDING
            ).values_list("id", flat=True)
            await Review.filter(id__in=ids).update(status=ReviewStatus.CANCELLED)
            await Listing.filter(id=listing_id).update(pending=None)
            events = [ReviewDecided(i) for i in ids]
        await audit.record(user.id, f"listing.{action}", SUBJECT, listing_id)
    return await get(listing_id), events


async def mine(user: User) -> list[Listing]:
    """The listings of the user's organisation, newest first (retired ones left out)."""
    if user.organization_id is None:
        return []
    return (
        await Listing.filter(owner_id=user.organization_id)
        .exclude(status=S.RETIRED)
        .order_by("-id")
        .limit(30)
    )


async def visible(listing_id: int, user: User) -> Listing:
    """A listing as a user may see it: published, or their own, or staff reviewing it."""
    listing = await Listing.get_or_none(id=listing_id)
    if listing is None or user.status is not UserStatus.ACTIVE:
        raise NotFound("listing.not_found")
    if listing.status is S.PUBLISHED or is_owner(user, listing):
        return listing
    if permissions.allowed("review.reviewer", user) or permissions.allowed(
        "review.publisher", user
    ):
        return listing
    raise NotFound("listing.not_found")
