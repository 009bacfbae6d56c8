"""Sandbox catalogue (issue 9): published listings of each kind that a visitor can find with
/search (光谱, spectrometer, 盐雾, 石墨烯) or /catalog, and enquire about or book.

The service and the instrument belong to the seeded institution (赵检测 answers them), the
achievement to a university team seeded here with its member 陈教授 (the research persona,
who answers enquiries about it). Idempotent: seeding twice changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bot.config import load_platform
from models.catalog_search import text_of
from models.entities import Organization, OrgKind, OrgStatus, Role, User, UserStatus
from models.listing_entities import Listing, ListingKind, ListingStatus

TEAM_CODE = "12320600MB0000009"  # without its check character (added by the caller)
RESEARCHER_ID = 9401  # 陈教授, a persona of bot/sandbox/__init__.py
LISTINGS: tuple[tuple[str, ListingKind, str, str, dict[str, Any]], ...] = (
    (
        "institution",
        ListingKind.INSTRUMENT,
        "傅里叶红外光谱仪",
        "instruments",
        {
            "model": "Nicolet iS50",
            "maker": "Thermo Fisher",
            "location": "检测楼 302 室",
            "open_hours": {"days": [1, 2, 3, 4, 5], "from": "08:30", "to": "17:00"},
            "modes": ["onsite", "sample"],
            "training": "yes",
            "fee_basis": "government",
            "rate": "每机时 200 元，送样每样 150 元（FTIR spectrometer）",
            "bring": "固体样品 5 克或液体 10 毫升",
            "booking_notes": "自测须先经管理员培训；请至少提前一天预约。",
        },
    ),
    (
        "institution",
        ListingKind.SERVICE,
        "中性盐雾腐蚀试验",
        "testing",
        {
            "description": "按 GB/T 10125 对涂层和镀层做中性盐雾试验，出具 CMA 检测报告。"
            " Salt spray corrosion test.",
            "fee_basis": "market",
            "price_note": "每批 800 元",
            "turnaround": "7 个工作日",
        },
    ),
    (
        "team",
        ListingKind.ACHIEVEMENT,
        "石墨烯导热膜低成本制备技术",
        "tech_transfer",
        {
            "description": "一种石墨烯导热膜的低成本卷对卷制备方法，导热系数 1500 W/mK 以上。"
            " Graphene thermal film.",
            "maturity": "pilot",
            "patents": ["ZL201910123456.X"],
            "transfer_modes": ["licence", "joint"],
        },
    ),
)


async def seed_listings(institution: Organization, rep: User, team_code: str) -> None:
    """The catalogue of the sandbox: one listing of each kind, published."""
    platform = load_platform(None)
    team, _ = await Organization.get_or_create(
        credit_code=team_code,
        defaults={
            "name": "南通大学材料科学团队",
            "kind": OrgKind.RESEARCH,
            "township": "hi_tech_zone",
            "status": OrgStatus.ACTIVE,
        },
    )
    await User.update_or_create(
        id=RESEARCHER_ID,
        defaults={
            "first_name": "陈教授",
            "real_name": "陈教授",
            "language_code": "zh-CN",
            "role": Role.RESEARCH,
            "status": UserStatus.ACTIVE,
            "phone": "+8613700137000",
            "organization_id": team.id,
            "reachable": True,
        },
    )
    owners = {"institution": (institution, rep.id), "team": (team, RESEARCHER_ID)}
    for who, kind, title, category, details in LISTINGS:
        org, author = owners[who]
        if await Listing.exists(owner_id=org.id, title=title):
            continue
        listing = Listing(
            kind=kind,
            owner_id=org.id,
            created_by_id=author,
            status=ListingStatus.PUBLISHED,
            title=title,
            category=category,
            township=org.township,
            details=details,
            published_at=datetime.now(UTC),
        )
        listing.search_text = text_of(listing, org.name, platform)
        await listing.save()
