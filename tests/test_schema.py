"""The migrated schema enforces what the domain relies on, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from tortoise.exceptions import IntegrityError
from tortoise.migrations.api import migrate as tortoise_migrate

from models.db import close_database, migrate, open_database, tortoise_config
from models.entities import Registration, Review, Role, User


async def test_one_review_per_stage_and_round(database: str) -> None:
    # First-decision-wins and "reviewed again after an edit" both stand on this constraint;
    # Tortoise's SQLite table rebuilds once dropped it silently (see migration 0002).
    await Review.create(subject_type="demand", subject_id=7, stage="reviewer")
    with pytest.raises(IntegrityError):
        await Review.create(subject_type="demand", subject_id=7, stage="reviewer")
    again = await Review.create(subject_type="demand", subject_id=7, stage="reviewer", round=2)
    assert again.round == 2


async def test_migration_0005_keeps_every_row_on_sqlite(tmp_path: Path) -> None:
    # Tortoise alters a SQLite column by rebuilding its table, and dropping `users` with
    # foreign keys on deletes every registration: 0005 must leave the SQLite tables alone.
    url = f"sqlite://{tmp_path / 'before-0005.sqlite3'}"
    await tortoise_migrate(config=tortoise_config(url), target="models.0004_inbox")
    await close_database()
    await open_database(url)
    user = await User.create(id=5, first_name="张伟", phone="+8613800000005")
    await Registration.create(
        user=user, role=Role.ENTERPRISE, real_name="张伟", phone=user.phone, org_name="星火科技"
    )
    await close_database()
    await migrate(url)
    await open_database(url)
    try:
        [kept] = await Registration.filter(user_id=5)
        assert (kept.phone, (await User.get(id=5)).phone) == ("+8613800000005",) * 2
    finally:
        await close_database()
