"""The migrated schema enforces what the domain relies on, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from tortoise.exceptions import IntegrityError

from models.entities import Review


async def test_one_review_per_stage_and_round(database: str) -> None:
    # First-decision-wins and "reviewed again after an edit" both stand on this constraint;
    # Tortoise's SQLite table rebuilds once dropped it silently (see migration 0002).
    await Review.create(subject_type="demand", subject_id=7, stage="reviewer")
    with pytest.raises(IntegrityError):
        await Review.create(subject_type="demand", subject_id=7, stage="reviewer")
    again = await Review.create(subject_type="demand", subject_id=7, stage="reviewer", round=2)
    assert again.round == 2
