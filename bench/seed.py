"""Test data in bulk, written in a child process (one SQL dialect per interpreter).

`python -m bench.seed DATABASE_URL WHAT FIRST COUNT` migrates, then makes:
- `members`: active enterprise members of active enterprises (they submit demands);
- `institutions`: active, reachable institution users of active institutions (reminders);
- `conversations`: copies of the stored conversation of user FIRST - 1 for COUNT new users
  from FIRST on, as if they had stopped at the same step of the same flow.
Prints one JSON line with what it did.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from typing import Any

from models.db import close_database, migrate, open_database
from models.entities import (
    Conversation,
    InstitutionTier,
    Organization,
    OrgKind,
    OrgStatus,
    Role,
    User,
    UserStatus,
)

BATCH = 5000


async def _organizations(kind: OrgKind, first: int, count: int) -> list[int]:
    """COUNT active organisations named after FIRST.., their ids in order."""
    prefix = f"bench-{kind.value}-{first}-"
    tier = InstitutionTier.SERVICE if kind is OrgKind.INSTITUTION else None
    orgs = [
        Organization(
            name=f"{prefix}{n}",
            kind=kind,
            township="chengnan",
            service_fields=["testing"] if kind is OrgKind.INSTITUTION else [],
            tier=tier,
            status=OrgStatus.ACTIVE,
        )
        for n in range(count)
    ]
    await Organization.bulk_create(orgs, batch_size=BATCH)
    rows = await Organization.filter(name__startswith=prefix).values_list("id", "name")
    by_name = {name: org_id for org_id, name in rows}
    return [by_name[f"{prefix}{n}"] for n in range(count)]


async def people(role: Role, first: int, count: int) -> None:
    """COUNT active, reachable users of `role`, each of their own active organisation."""
    kind = OrgKind.INSTITUTION if role is Role.INSTITUTION else OrgKind.ENTERPRISE
    org_ids = await _organizations(kind, first, count)
    users = [
        User(
            id=first + n,
            first_name=f"用户{n}",
            real_name=f"用户{n}",
            phone=f"+86138{(first + n) % 10**8:08d}",
            role=role,
            status=UserStatus.ACTIVE,
            organization_id=org_id,
            township="chengnan" if role is Role.ENTERPRISE else None,
            language_code="zh-CN",
            reachable=True,
        )
        for n, org_id in enumerate(org_ids)
    ]
    await User.bulk_create(users, batch_size=BATCH)


async def clone_conversations(first: int, count: int) -> None:
    """Copy user FIRST-1's stored conversation to COUNT more users."""
    template_id = first - 1
    template = await Conversation.get(key=f"{template_id}:{template_id}")
    copies = [
        Conversation(
            key=f"{uid}:{uid}",
            flow=template.flow,
            state=template.state,
            version=template.version,
            data=dict(template.data),
        )
        for uid in range(first, first + count)
    ]
    await Conversation.bulk_create(copies, batch_size=BATCH)


async def run(database_url: str, what: str, first: int, count: int) -> dict[str, Any]:
    """Migrate, then make the data; returns what was done and how long it took."""
    started = time.perf_counter()
    await migrate(database_url)
    await open_database(database_url)
    try:
        if what == "members":
            await people(Role.ENTERPRISE, first, count)
        elif what == "institutions":
            await people(Role.INSTITUTION, first, count)
        elif what == "conversations":
            await clone_conversations(first, count)
        else:
            raise ValueError(f"unknown seed {what!r}")
        total = await Conversation.all().count() if what == "conversations" else None
    finally:
        await close_database()
    return {
        "what": what,
        "count": count,
        "seconds": round(time.perf_counter() - started, 2),
        "conversations": total,
    }


def main(argv: list[str]) -> None:
    """Command line: DATABASE_URL WHAT FIRST COUNT."""
    url, what, first, count = argv[0], argv[1], int(argv[2]), int(argv[3])
    print(json.dumps(asyncio.run(run(url, what, first, count))))


if __name__ == "__main__":
    main(sys.argv[1:])
