"""A new round of review for a record that comes back (edited demand, contract filed again,
another redemption request): the previous rounds' decisions stay as history.

Reviews are unique per (subject, stage, round) in the database, so two resubmissions at
once cannot both open the same round. A leaf module: models/review.py imports the rules
that call this.
"""

from __future__ import annotations

from models.entities import Review


async def open_round(subject_type: str, subject_id: int, stage: str) -> Review:
    """A pending review of this record in the round after its last one."""
    last = (
        await Review.filter(subject_type=subject_type, subject_id=subject_id)
        .order_by("-round")
        .first()
    )
    return await Review.create(
        subject_type=subject_type,
        subject_id=subject_id,
        stage=stage,
        round=(last.round + 1) if last else 1,
    )
