"""Finding listings: by kind, category and township, or by keywords in Chinese and English.

Chinese has no spaces, so a word index would not find 光谱 in 红外光谱仪. Each listing keeps
a normalised search text (NFKC, case-folded: title, answers, category labels in both
languages, owner name) and a query matches when every one of its terms is a substring of it
(`LIKE '%term%'`): the same SQL on SQLite and PostgreSQL. docs/CATALOG_SEARCH.md gives the
numbers at 100k listings that decided it (bench/search.py).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from models.entities import Organization
from models.errors import ValidationFailed
from models.evaluation import latest_published
from models.evaluation_entities import Evaluation
from models.listing_entities import Listing, ListingKind, ListingStatus
from models.matching import Profile, profile
from models.platform import PlatformConfig

QUERY_MIN = 2  # per term: one Chinese character matches far too much
QUERY_MAX = 50
TERMS_MAX = 5
# A search shows at most this many results (newest first): counting every match of a common
# word scans the whole table, while the newest matches of it are found within a few rows.
RESULTS_MAX = 100


def normalise(text: str) -> str:
    """Full-width to half-width, case-folded, spaces collapsed: how both sides are compared."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def _flatten(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _flatten(v)]
    if isinstance(value, list):
        return [s for v in value for s in _flatten(v)]
    return [str(value)] if value not in (None, "") else []


def text_of(listing: Listing, owner_name: str, platform: PlatformConfig) -> str:
    """The search text of a listing."""
    category = platform.category(listing.category)
    labels = [category.zh, category.en] if category else [listing.category]
    parts = [listing.title, *labels, owner_name, *_flatten(listing.details)]
    return normalise(" ".join(parts))


def terms_of(query: str) -> list[str]:
    """The terms of a query, or ValidationFailed (too short, too long, too many terms)."""
    text = normalise(query or "")
    if len(text) > QUERY_MAX:
        raise ValidationFailed("catalog.query_long", max=QUERY_MAX)
    terms = list(dict.fromkeys(text.split()))
    if not terms or any(len(term) < QUERY_MIN for term in terms):
        raise ValidationFailed("catalog.query_short", min=QUERY_MIN)
    if len(terms) > TERMS_MAX:
        raise ValidationFailed("catalog.query_terms", max=TERMS_MAX)
    return terms


@dataclass(frozen=True)
class Hit:
    """One listing of a result page, with its owner's tier and stars: those of its latest
    published evaluation (Rugao art. 20) and its users' rating."""

    listing: Listing
    owner: Organization
    profile: Profile
    evaluation: Evaluation | None


async def _hits(rows: list[Listing]) -> list[Hit]:
    evaluations = await latest_published(list({row.owner_id for row in rows}))
    hits = []
    for row in rows:
        found = await profile(row.owner_id)
        hits.append(Hit(row, found.organization, found, evaluations.get(row.owner_id)))
    return hits


async def hit_of(listing: Listing) -> Hit:
    """One listing as a result shows it."""
    return (await _hits([listing]))[0]


async def search(query: str, *, offset: int, limit: int) -> tuple[list[Hit], int]:
    """A page of published listings matching every term of the query, newest first, and how
    many matched (at most RESULTS_MAX)."""
    terms = terms_of(query)
    condition = Q(*(Q(search_text__contains=term) for term in terms), join_type="AND")
    # Newest first by id, the primary key: the scan stops at the RESULTS_MAX-th match.
    ids: list[int] = await (  # type: ignore[assignment]
        Listing.filter(condition, status=ListingStatus.PUBLISHED)
        .order_by("-id")
        .limit(RESULTS_MAX)
        .values_list("id", flat=True)
    )
    wanted = ids[offset : offset + limit]
    rows = {row.id: row for row in await Listing.filter(id__in=wanted)}
    return await _hits([rows[i] for i in wanted if i in rows]), len(ids)


async def browse(
    kind: ListingKind | None,
    category: str | None,
    township: str | None,
    *,
    offset: int,
    limit: int,
) -> tuple[list[Hit], int]:
    """A page of published listings by kind, category and township, newest first."""
    rows = Listing.filter(status=ListingStatus.PUBLISHED)
    if kind is not None:
        rows = rows.filter(kind=kind)
    if category:
        rows = rows.filter(category=category)
    if township:
        rows = rows.filter(township=township)
    total = await rows.count()
    page = await rows.order_by("-published_at", "-id").offset(offset).limit(limit)
    return await _hits(page), total
