"""The audit trail: one row per decision or change of a record (DESIGN §2: AuditLog)."""

from __future__ import annotations

from typing import Any

from models.entities import AuditLog


async def record(
    actor_id: int | None,
    action: str,
    subject_type: str,
    subject_id: int | str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Write one audit row (inside the caller's transaction, when there is one)."""
    await AuditLog.create(
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subject_id=str(subject_id),
        before=before,
        after=after,
    )
