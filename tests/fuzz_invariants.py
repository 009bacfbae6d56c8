"""The invariants no sequence of updates may break (issue #7 item 5): checked by the fuzzer
after every example, on whatever records the example left behind."""

from __future__ import annotations

from handlers import flows
from models import conversations
from models.demand_entities import (
    Complaint,
    ComplaintStatus,
    Demand,
    DemandStatus,
    Engagement,
    Feedback,
    Intent,
    IntentStatus,
)
from models.entities import AuditLog, Conversation, Review, ReviewStatus, Role, User, UserStatus
from tests.lifecycle_support import LEGAL

S = DemandStatus


async def broken_invariants() -> list[str]:
    """What no sequence of updates may leave behind; empty when all is well."""
    problems: list[str] = []
    demands = await Demand.all().values("id", "status", "matched_institution_id")
    engaged = dict(await Engagement.all().values_list("demand_id", "institution_id"))
    statuses = {s.value for s in S}
    bound = {S.MATCHED, S.CONTRACTED, S.DELIVERED, S.DISPUTED, S.COMPLETED}
    for row in demands:
        demand_id, status, matched = row["id"], str(row["status"]), row["matched_institution_id"]
        if status not in statuses:
            problems.append(f"demand {demand_id}: status {status!r}")
            continue
        if (status in bound or matched is not None) != (demand_id in engaged):
            problems.append(f"demand {demand_id} {status}: engagement {engaged.get(demand_id)}")
        if demand_id in engaged and engaged[demand_id] != matched:
            problems.append(f"demand {demand_id}: engaged {engaged[demand_id]}, matched {matched}")
        problems += await _audited(demand_id, S(status))
        accepted = await Intent.filter(demand_id=demand_id, status=IntentStatus.ACCEPTED)
        if len(accepted) > 1 or (accepted and accepted[0].institution_id != matched):
            problems.append(f"demand {demand_id}: accepted intents {[i.id for i in accepted]}")
        if (
            status != S.PUBLISHED
            and await Intent.filter(demand_id=demand_id, status=IntentStatus.PENDING).exists()
        ):
            problems.append(f"demand {demand_id} {status}: offers still pending")
    for engagement_id, demand_status in await Feedback.all().values_list(
        "engagement_id", "engagement__demand__status"
    ):
        if demand_status != S.COMPLETED:
            problems.append(f"feedback on engagement {engagement_id} of a {demand_status} demand")
    for complaint_id, status in await Complaint.all().values_list("id", "status"):
        if status not in {s.value for s in ComplaintStatus}:
            problems.append(f"complaint {complaint_id}: status {status!r}")
    for review_id, status in await Review.all().values_list("id", "status"):
        if status not in {s.value for s in ReviewStatus}:
            problems.append(f"review {review_id}: status {status!r}")
    problems += await _users_valid()
    problems += await _conversations_valid()
    return problems


async def _audited(demand_id: int, status: DemandStatus) -> list[str]:
    """Every status change is audited, each a legal move, the last naming the status now.

    Moves go through lifecycle.move ("demand.<target>" with the status before and after);
    a resubmission is audited as "demand.resubmitted" (rejected -> submitted, models/demands.py).
    """
    rows = await AuditLog.filter(
        subject_type="demand",
        subject_id=str(demand_id),
        action__in=[*(f"demand.{s.value}" for s in S), "demand.resubmitted"],
    ).order_by("id")
    moves = [
        (S.REJECTED.value, S.SUBMITTED.value)
        if row.action == "demand.resubmitted"
        else ((row.before or {}).get("status"), (row.after or {}).get("status"))
        for row in rows
        if row.action == "demand.resubmitted" or (row.before or {}).get("status")
    ]  # "demand.submitted" without a status before is the demand being filed
    legal = {(a.value, b.value) for a, b in LEGAL}
    problems = [
        f"demand {demand_id}: audited move {a} -> {b}" for a, b in moves if (a, b) not in legal
    ]
    chain = [S.SUBMITTED.value, *(b for _, b in moves)]  # each move starts where one ended
    problems += [
        f"demand {demand_id}: {a} -> {b} audited after reaching {was}"
        for was, (a, b) in zip(chain, moves, strict=False)
        if a != was
    ]
    last = chain[-1]
    if last != status.value:
        problems.append(f"demand {demand_id} is {status.value}, last audited {last}")
    return problems


async def _users_valid() -> list[str]:
    problems = []
    roles, statuses = {r.value for r in Role}, {s.value for s in UserStatus}
    for user_id, role, status, org in await User.all().values_list(
        "id", "role", "status", "organization_id"
    ):
        if (role is not None and role not in roles) or status not in statuses:
            problems.append(f"user {user_id}: role {role!r}, status {status!r}")
        if status == UserStatus.ACTIVE and role is None:
            problems.append(f"user {user_id}: active without a role")
        members = {Role.ENTERPRISE.value, Role.INSTITUTION.value, Role.RESEARCH.value}
        if status == UserStatus.ACTIVE and role in members and org is None:
            problems.append(f"user {user_id}: active {role} without an organisation")
    return problems


async def _conversations_valid() -> list[str]:
    problems = []
    for row in await Conversation.all():
        chat, _, user = row.key.partition(":")
        if not (chat.lstrip("-").isdigit() and user.isdigit()):
            problems.append(f"conversation key {row.key!r}")
        stored = await conversations.load(row.key)
        if stored is None or flows.find(stored.flow) is None or not isinstance(stored.data, dict):
            problems.append(f"conversation {row.key}: {row.flow}/{row.state}")
    return problems
