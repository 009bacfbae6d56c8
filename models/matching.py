"""Who is recommended a published demand, and what an owner sees of an institution.

Rugao art. 11: the platform pushes needs to the institutions that can meet them. Candidates
are active institutions whose service fields include the demand's category, or who publish
a listing in it (issue 9), and whose tier may serve (Shenyang art. 7), and research teams
with a published achievement in it; ranked by same township, a listing in the category,
rating, then response speed.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from statistics import mean

from models.demand_entities import Demand, DemandStatus, Engagement, Feedback, Intent
from models.entities import PROVIDER_ROLES, Organization, OrgKind, OrgStatus, User, UserStatus
from models.listing_entities import Listing, ListingStatus
from models.market import SERVING_TIERS
from models.text import star_bar


@dataclass(frozen=True)
class Profile:
    """What an owner sees of an institution offering help."""

    organization: Organization
    rating: float | None  # mean overall score, 1-5
    ratings: int
    completed: int

    @property
    def stars(self) -> str:
        """The rating as stars, e.g. ★★★★☆ (no rating yet: empty)."""
        if self.rating is None:
            return ""
        return star_bar(round(self.rating))


async def _ratings(org_ids: list[int]) -> dict[int, list[int]]:
    rows = await Feedback.filter(engagement__institution_id__in=org_ids).values_list(
        "engagement__institution_id", "overall"
    )
    scores: dict[int, list[int]] = defaultdict(list)
    for org_id, overall in rows:
        scores[org_id].append(overall)
    return scores


async def _response_seconds(org_ids: list[int]) -> dict[int, float]:
    rows = await Intent.filter(institution_id__in=org_ids).values_list(
        "institution_id", "created_at", "demand__published_at"
    )
    delays: dict[int, list[float]] = defaultdict(list)
    for org_id, offered, published in rows:
        if published is not None:
            delays[org_id].append(max(0.0, (offered - published).total_seconds()))
    return {org_id: mean(values) for org_id, values in delays.items()}


async def profile(org_id: int) -> Profile:
    """Name, tier, rating and completed engagements of an institution."""
    org = await Organization.get(id=org_id)
    scores = (await _ratings([org_id])).get(org_id, [])
    completed = await Engagement.filter(
        institution_id=org_id, demand__status=DemandStatus.COMPLETED
    ).count()
    return Profile(org, mean(scores) if scores else None, len(scores), completed)


async def _listing_owners(category: str) -> set[int]:
    """Organisations with a published listing in the category (issue 9, item 5)."""
    rows: list[int] = await Listing.filter(  # type: ignore[assignment]
        status=ListingStatus.PUBLISHED, category=category
    ).values_list("owner_id", flat=True)
    return set(rows)


async def recommend(demand: Demand, limit: int) -> list[Organization]:
    """The institutions (and research teams with a published achievement in the category) to
    recommend the demand to, best first, at most `limit`. A published listing in the
    demand's category counts as much as a service field, and ranks its owner first."""
    listed = await _listing_owners(demand.category)
    candidates = [
        org
        for org in await Organization.filter(
            kind=OrgKind.INSTITUTION, status=OrgStatus.ACTIVE, tier__in=list(SERVING_TIERS)
        )
        if demand.category in (org.service_fields or []) or org.id in listed
    ]
    candidates += await Organization.filter(
        kind=OrgKind.RESEARCH, status=OrgStatus.ACTIVE, id__in=list(listed)
    )
    ids = [org.id for org in candidates]
    ratings = await _ratings(ids)
    speed = await _response_seconds(ids)

    def rank(org: Organization) -> tuple[int, int, float, float, int]:
        scores = ratings.get(org.id)
        return (
            0 if org.township and org.township == demand.township else 1,
            0 if org.id in listed else 1,
            -(mean(scores) if scores else 0.0),
            speed.get(org.id, float("inf")),
            org.id,
        )

    return sorted(candidates, key=rank)[:limit]


async def representatives(org_ids: list[int]) -> list[User]:
    """Active, reachable representatives of these institutions or research teams."""
    return await User.filter(
        organization_id__in=org_ids,
        role__in=PROVIDER_ROLES,
        status=UserStatus.ACTIVE,
        reachable=True,
    )


async def contacts(org_id: int) -> list[User]:
    """The institution's active representatives, reachable or not: the contacts an owner gets
    once they accept its offer."""
    return await User.filter(
        organization_id=org_id, role__in=PROVIDER_ROLES, status=UserStatus.ACTIVE
    ).order_by("id")
