"""The demand state machine (DESIGN §2): every status change of a demand goes through `move`.

    submitted -> published | rejected          (review, Rugao art. 15-16)
    rejected  -> submitted                     (edited and resubmitted: models/demands.py)
    published -> matched                       (owner accepts an offer)
    matched   -> contracted                    (contract filed, Keqiao 1(4))
    contracted -> matched                      (filing refused by the reviewer)
    contracted -> delivered -> completed       (institution delivers, owner confirms)
    delivered -> disputed -> completed | contracted   (owner disputes, an admin resolves)
    published -> expired                       (wanted-by date passed with no match)
    submitted | rejected | published | matched -> withdrawn   (by the owner)

`move` is a compare-and-set (`UPDATE ... WHERE status IN (...)`): of two concurrent moves
from the same state only one changes a row, so it wins, and the loser gets InvalidTransition.
An illegal move is an error, never a silent no-op; every move writes an audit record.
"""

from __future__ import annotations

from typing import Any

from models import audit
from models.demand_entities import Demand, DemandStatus
from models.errors import InvalidTransition

S = DemandStatus
TRANSITIONS: dict[DemandStatus, frozenset[DemandStatus]] = {
    S.SUBMITTED: frozenset({S.PUBLISHED, S.REJECTED, S.WITHDRAWN}),
    S.REJECTED: frozenset({S.SUBMITTED, S.WITHDRAWN}),
    S.PUBLISHED: frozenset({S.MATCHED, S.EXPIRED, S.WITHDRAWN}),
    S.MATCHED: frozenset({S.CONTRACTED, S.WITHDRAWN}),
    S.CONTRACTED: frozenset({S.DELIVERED, S.MATCHED}),
    S.DELIVERED: frozenset({S.COMPLETED, S.DISPUTED}),
    S.DISPUTED: frozenset({S.COMPLETED, S.CONTRACTED}),
    S.COMPLETED: frozenset(),
    S.EXPIRED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
# States in which the owner may still withdraw (before a contract binds both sides).
OPEN_STATES = frozenset(s for s, targets in TRANSITIONS.items() if S.WITHDRAWN in targets)
FINAL_STATES = frozenset(s for s, targets in TRANSITIONS.items() if not targets)


def sources_of(target: DemandStatus) -> frozenset[DemandStatus]:
    """The states from which a demand may move to `target`."""
    return frozenset(s for s, targets in TRANSITIONS.items() if target in targets)


async def move(
    demand: Demand,
    target: DemandStatus,
    actor_id: int | None,
    *,
    only_from: frozenset[DemandStatus] | None = None,
    **changes: Any,
) -> Demand:
    """Move the demand to `target` if its stored status allows it; call inside a transaction.

    `only_from` narrows the legal sources for this action (e.g. confirm completion only from
    delivered, although an admin may complete from disputed). Returns the updated demand.
    """
    sources = sources_of(target)
    if only_from is not None:
        sources &= only_from
    # Lock the row (PostgreSQL; SQLite runs one write transaction at a time), then
    # compare-and-set from the status read under the lock: the audit names the status that
    # was really replaced, even when the caller's copy is stale.
    current = await Demand.filter(id=demand.id).select_for_update().get()
    replaced = current.status
    moved = replaced in sources and await Demand.filter(id=demand.id, status=replaced).update(
        status=target, **changes
    )
    if not moved:
        raise InvalidTransition(
            "demand.invalid_transition",
            reference=demand.reference,
            status=current.status.value,
            target=target.value,
        )
    await audit.record(
        actor_id,
        f"demand.{target.value}",
        "demand",
        demand.id,
        before={"status": replaced.value},
        after={"status": target.value, **{k: _plain(v) for k, v in changes.items()}},
    )
    return await Demand.get(id=demand.id)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value
