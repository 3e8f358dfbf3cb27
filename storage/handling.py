"""The handling of an event (三同步: judge, hand over, follow up, report): 待研判 → 已交办 (to a unit)
→ 处置中 → 已回应 → 已办结. Each step keeps who, when and a note; the event's row keeps where it
stands, the unit it was handed to and the analyst's 研判 note. Every step is audited too."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.audit import record
from storage.models import EventRow, HandlingRow, HandlingStepRow
from yuqing.base.errors import YuqingError

PENDING, ASSIGNED, HANDLING, RESPONDED, CLOSED = "待研判", "已交办", "处置中", "已回应", "已办结"
STATUSES: tuple[str, ...] = (PENDING, ASSIGNED, HANDLING, RESPONDED, CLOSED)
NEXT: dict[str, tuple[str, ...]] = {
    PENDING: (ASSIGNED, CLOSED),  # closed at once: judged needing no handling
    ASSIGNED: (HANDLING, ASSIGNED),  # handed over again, to another unit
    HANDLING: (RESPONDED,),
    RESPONDED: (CLOSED, HANDLING),
    CLOSED: (PENDING,),  # reopened
}
UNIT_STEPS = frozenset({HANDLING, RESPONDED, CLOSED})
"""What the unit's own users may do to the events handed to them (the rest is the press office's)."""


@dataclass(frozen=True)
class Step:
    status: str
    unit: str | None
    note: str
    by: str
    at: datetime
    id: int = 0


@dataclass(frozen=True)
class Handling:
    """Where one event stands (an event no one has touched is 待研判, with no unit)."""

    event_id: int
    status: str = PENDING
    unit: str | None = None
    assessment: str = ""
    updated_at: datetime | None = None
    updated_by: str = ""

    @property
    def next(self) -> tuple[str, ...]:
        return NEXT[self.status]


def handling(session: Session, event_id: int) -> Handling:
    row = session.get(HandlingRow, event_id)
    if row is None:
        return Handling(event_id)
    return Handling(event_id, row.status, row.unit, row.assessment, row.updated_at, row.updated_by)


def handlings(session: Session, event_ids: Sequence[int]) -> dict[int, Handling]:
    """Where each of these events stands (absent: 待研判), for digests, reports and lists."""
    if not event_ids:
        return {}
    rows = session.scalars(select(HandlingRow).where(HandlingRow.event_id.in_(list(event_ids))))
    found = {r.event_id: Handling(r.event_id, r.status, r.unit, r.assessment, r.updated_at, r.updated_by) for r in rows}
    return {eid: found.get(eid, Handling(eid)) for eid in event_ids}


def steps(session: Session, event_id: int) -> list[Step]:
    stmt = (
        select(HandlingStepRow)
        .where(HandlingStepRow.event_id == event_id)
        .order_by(HandlingStepRow.at, HandlingStepRow.id)
    )
    return [Step(r.status, r.unit, r.note, r.by, r.at, r.id) for r in session.scalars(stmt)]


def unit_may(current: Handling, unit: str | None, status: str) -> bool:
    """Whether a user of ``unit`` may move the event to ``status``: only an event handed to that
    unit, only to 处置中, 已回应 or 已办结 (when the workflow allows it from where it stands)."""
    return (
        bool(unit)
        and current.unit == unit
        and current.status != CLOSED
        and status in UNIT_STEPS
        and status in current.next
    )


def _row(session: Session, event_id: int, now: datetime, by: str) -> HandlingRow:
    if session.get(EventRow, event_id) is None:
        raise YuqingError(f"no event with id {event_id}", "find events in the digest or the console's event list")
    row = session.get(HandlingRow, event_id)
    if row is None:
        row = HandlingRow(event_id=event_id, status=PENDING, unit=None, assessment="", updated_at=now, updated_by=by)
        session.add(row)
    return row


def advance(
    session: Session, event_id: int, status: str, *, by: str, now: datetime, note: str = "", unit: str | None = None
) -> Handling:
    """Move an event to ``status`` (one of ``NEXT[current]``); 已交办 needs the unit it goes to."""
    row = _row(session, event_id, now, by)
    if status not in NEXT[row.status]:
        allowed = "、".join(NEXT[row.status])
        raise YuqingError(f"event {event_id} is {row.status}: it cannot become {status}", f"next: {allowed}")
    if status == ASSIGNED and not unit:
        raise YuqingError("已交办 needs the unit the event is handed to", "choose a unit (a recipient group)")
    if status == ASSIGNED:
        row.unit = unit
    if status == PENDING:
        row.unit = None
    row.status, row.updated_at, row.updated_by = status, now, by
    session.add(HandlingStepRow(event_id=event_id, status=status, unit=row.unit, note=note, by=by, at=now))
    record(
        session,
        actor=by,
        action="event.handling",
        target=f"event:{event_id}",
        detail={"status": status, "unit": row.unit, "note": note},
        now=now,
    )
    return handling(session, event_id)


def assess(session: Session, event_id: int, assessment: str, *, by: str, now: datetime) -> Handling:
    """Save the analyst's 研判 note of an event."""
    row = _row(session, event_id, now, by)
    row.assessment, row.updated_at, row.updated_by = assessment, now, by
    record(session, actor=by, action="event.assess", target=f"event:{event_id}", detail={"note": assessment}, now=now)
    return handling(session, event_id)
