"""Automatic work: the domain side of the scheduled jobs (DOMAIN.md, "Automatic certificates",
"Points lots and the ledger", "Tiers (statuses)").

Every function here takes a *business date* (a day in the business's time zone) and the
instant the work is done, so a job can be run for any missed day and twice without harm:

* Set-based: due customers are selected with one query over indexed columns
  (`birth_month/birth_day`, `last_purchase_at`, `lots.expires_at`, `operations(kind, created_at)`),
  never by walking every customer in Python. Grants are written in bulk per chunk.
* Once only: certificates are claimed in `reward_claims` (unique kind/subject/period) with
  `INSERT ... ON CONFLICT DO NOTHING`, so a re-run or a racing process issues nothing twice;
  messages carry an outbox `dedupe_key`; expiry warnings mark their lots `warned_at`.
* Everything a job grants and the message about it are written in one transaction.

Decisions where DOMAIN.md is silent (also in docs/AUTOMATION.md):

* Catch-up "within the program's limits": a missed day's birthday or win-back certificate is
  still issued if the day is at most the certificate's `validity_days` ago (the gift issued on
  time would still be valid); older missed days are skipped. A late certificate gets its full
  validity from the moment it is issued.
* Birthday and win-back certificates go to customers without Telegram too (they can use them
  at the till by phone); only customers with a reachable chat get the message. Erased and
  blocked customers get nothing.
* Win-back needs at least one purchase: the inactivity period is measured from the last one and
  identified by its business date, so a new purchase starts a new period.
* Expiry warnings cover regular points; a certificate states its own end date when it is issued
  and, still unused, is recalled CERTIFICATE_REMINDER_DAYS (3) days before it ends (one reminder
  per certificate, `warned_at`).
* Tier recalculation with a rolling window is incremental: each day only customers whose
  purchases or refunds left the window that day are recomputed (upgrades already happen at
  purchase time). The first run, and the first run after the program changed, recalculate
  everyone in one set-based query; an all-time program is never downgraded by it.
"""

from __future__ import annotations

import calendar
import logging
import math
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    case,
    delete,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from models.customers.accounts import purge_codes
from models.kernel.base import table_of
from models.kernel.claims import person_key_for
from models.kernel.clock import start_of_day
from models.kernel.context import Domain
from models.kernel.dates import previous_month
from models.kernel.db import lock_customers
from models.kernel.outbox import Outgoing, dialect_insert, enqueue_many, message_payload
from models.kernel.tables import (
    CertificateKind,
    Customer,
    EntryKind,
    JobRun,
    Lease,
    LedgerEntry,
    Lot,
    LotKind,
    Operation,
    OperationKind,
    OutboxMessage,
    OutboxStatus,
    RewardClaim,
    TelegramAccount,
)
from models.ledger.expiry import expire_lots
from models.program.rules import Certificate, Program, ThresholdBasis
from models.program.store import current_program, current_version
from models.program.tiers import in_window
from models.till.checkout import purge_checkouts

log = logging.getLogger(__name__)

CHUNK = 500  # customers per transaction when granting in bulk (bind-parameter limits, lock time)


# --- Job bookkeeping ------------------------------------------------------------------------

@dataclass(frozen=True)
class LastRun:
    business_date: date
    program_version: int | None


async def last_run(session: AsyncSession, name: str) -> LastRun | None:
    row = (await session.execute(
        select(JobRun.business_date, JobRun.program_version)
        .where(JobRun.name == name).order_by(JobRun.business_date.desc()).limit(1)
    )).first()
    return LastRun(row[0], row[1]) if row else None


async def record_run(
    dom: Domain, name: str, business_date: date, *, started_at: datetime, holder: str,
    program_version: int | None, result: dict[str, Any],
) -> None:
    """Remember that `name` finished `business_date` (a hand re-run updates the row)."""
    now = dom.clock.now()
    async with dom.db.transaction() as session:
        if program_version is None:
            program_version = await current_version(session)
        values = {"name": name, "business_date": business_date, "started_at": started_at, "finished_at": now,
                  "holder": holder[:100], "program_version": program_version, "result": result}
        stmt = dialect_insert(session, JobRun.__table__).values(values)
        await session.execute(stmt.on_conflict_do_update(
            index_elements=["name", "business_date"],
            set_={k: stmt.excluded[k] for k in ("finished_at", "holder", "program_version", "result")}))


async def business_start(dom: Domain) -> date | None:
    """The day the platform started (the first program version): catch-up never goes earlier."""
    from models.kernel.tables import ProgramVersion

    async with dom.db.reading() as session:
        first = (await session.execute(select(func.min(ProgramVersion.created_at)))).scalar()
    return first.astimezone(dom.tz).date() if first else None


# --- Small helpers --------------------------------------------------------------------------

def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def day_month(moment: datetime | date, tz: ZoneInfo) -> dict[str, int]:
    """A date for message arguments: the sender renders `{ -dm(day: $day, month: $month) }`."""
    day = moment.astimezone(tz).date() if isinstance(moment, datetime) else moment
    return {"day": day.day, "month": day.month}


def percent_arg(value: Decimal) -> int | str:
    return int(value) if value == int(value) else str(value)


async def _chats(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, int]:
    """Reachable Telegram chats of these customers."""
    chats: dict[int, int] = {}
    for part in _chunks(customer_ids):
        rows = await session.execute(
            select(TelegramAccount.customer_id, TelegramAccount.telegram_id).where(
                TelegramAccount.customer_id.in_(part), TelegramAccount.unreachable.is_(False)))
        chats.update({cid: chat for cid, chat in rows.all() if cid is not None})
    return chats


# --- Certificates in bulk (birthday, win-back) ----------------------------------------------

@dataclass(frozen=True)
class Due:
    customer_id: int
    name: str | None


@dataclass
class Issued:
    due: int = 0
    issued: int = 0
    points: int = 0
    messages: int = 0
    skipped: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"due": self.due, "issued": self.issued, "points": self.points,
                                "messages": self.messages}
        if self.skipped:
            data["skipped"] = self.skipped
        return data


async def issue_certificates(
    dom: Domain, due: Sequence[Due], *, kind: CertificateKind, certificate: Certificate,
    period_of: Callable[[int], str], message_key: str, message_args: dict[str, Any], now: datetime,
    still_due: Sequence[Any] = (), by_person: bool = False,
) -> Issued:
    """Claim, grant and announce a program certificate for every due customer, in chunks.

    Per chunk, in one transaction: the customers' rows are locked (`models.kernel.db.lock_customers`)
    and re-checked (not erased, not blocked, and the `still_due` conditions: a purchase that
    landed since the due list was read ends the inactivity a win-back is for), the claims are
    inserted ON CONFLICT DO NOTHING (only the rows that went in are granted), then operations,
    lots, GRANT entries and the messages are inserted in bulk.

    `by_person` (birthday): the claim's subject is the person key (`models.kernel.claims.person_key_for`,
    the phone across erasure) instead of the customer id (docs/RULES.md, "Once per person").
    """
    result = Issued(due=len(due))
    names = {d.customer_id: d.name for d in due}
    ids = sorted(names)
    cap = certificate.max_redeem_percent
    expires = now + timedelta(days=certificate.validity_days)
    for part in _chunks(ids):
        async with dom.db.transaction() as session:
            version, _ = await current_program(session)
            eligible = await lock_customers(
                session, Customer.id.in_(part), Customer.erased_at.is_(None), Customer.blocked.is_(False),
                *still_due)
            if not eligible:
                continue
            if by_person:
                phones = {cid: phone for cid, phone in (await session.execute(
                    select(Customer.id, Customer.phone).where(Customer.id.in_(eligible)))).all()}
                subjects = {cid: person_key_for(cid, phones.get(cid)) for cid in eligible}
            else:
                subjects = {cid: str(cid) for cid in eligible}
            customer_of = {subject: cid for cid, subject in subjects.items()}
            claimed = (await session.execute(
                dialect_insert(session, RewardClaim.__table__)
                .on_conflict_do_nothing(index_elements=["kind", "subject", "period"])
                .returning(RewardClaim.__table__.c.subject),
                [{"kind": kind.value, "subject": subjects[cid], "period": period_of(cid), "created_at": now}
                 for cid in eligible],
            )).scalars().all()
            winners = sorted(customer_of[s] for s in claimed)
            if not winners:
                continue
            operation_ids = await _reward_operations(
                session, winners, points=certificate.points, version=version, comment=f"certificate: {kind.value}",
                now=now)
            await grant_many(session, operation_ids, points=certificate.points, kind=kind, cap=cap, now=now,
                             expires=expires)
            chats = await _chats(session, winners)
            result.messages += await enqueue_many(session, [
                Outgoing(chats[cid], message_payload(message_key, {
                    **message_args, "name": names.get(cid) or "", "points": certificate.points,
                    "cap": percent_arg(cap), **day_month(expires, dom.tz)}),
                    f"{kind.value}:{cid}:{period_of(cid)}")
                for cid in winners if cid in chats
            ], now)
            result.issued += len(winners)
            result.points += certificate.points * len(winners)
    return result


def _value(value: Any, column: Any) -> Any:
    """A constant of an INSERT ... SELECT, bound with the target column's type."""
    return literal(value, type_=column.type)


async def _reward_operations(session: AsyncSession, customer_ids: Sequence[int], *, points: int, version: int,
                             comment: str, now: datetime) -> list[int]:
    """One REWARD operation per customer, in one `INSERT ... SELECT`; returns their ids."""
    table = table_of(Operation)
    c = table.c
    source = select(
        _value(OperationKind.REWARD, c.kind), Customer.id, _value(version, c.program_version),
        _value(now, c.created_at), _value(points, c.points_delta), _value("job", c.channel), _value(comment, c.comment),
    ).where(Customer.id.in_(customer_ids))
    columns = ["kind", "customer_id", "program_version", "created_at", "points_delta", "channel", "comment"]
    return list((await session.execute(insert(table).from_select(columns, source).returning(c.id))).scalars())


async def grant_many(
    session: AsyncSession, operation_ids: Sequence[int], *, points: int, kind: CertificateKind,
    cap: Decimal, now: datetime, expires: datetime,
) -> None:
    """A certificate lot and its GRANT entry for each of these operations (one per customer),
    in two `INSERT ... SELECT`s: no row passes through Python.

    The bulk twin of `models.ledger.entries.grant` (same columns, same entry): it only creates lots,
    it never changes the `remaining` of an existing one.
    """
    operations, lots = table_of(Operation), table_of(Lot)
    c = lots.c
    await session.execute(insert(lots).from_select(
        ["customer_id", "kind", "amount", "remaining", "created_at", "expires_at", "operation_id",
         "max_redeem_percent", "certificate_kind"],
        select(operations.c.customer_id, _value(LotKind.CERTIFICATE, c.kind), _value(points, c.amount),
               _value(points, c.remaining), _value(now, c.created_at), _value(expires, c.expires_at),
               operations.c.id, _value(str(cap), c.max_redeem_percent), _value(kind, c.certificate_kind))
        .where(operations.c.id.in_(operation_ids)),
    ))
    entries = table_of(LedgerEntry)
    await session.execute(insert(entries).from_select(
        ["lot_id", "customer_id", "operation_id", "kind", "delta", "created_at"],
        select(c.id, c.customer_id, c.operation_id, _value(EntryKind.GRANT, entries.c.kind),
               _value(points, entries.c.delta), _value(now, entries.c.created_at))
        .where(c.operation_id.in_(operation_ids)),
    ))


def _too_late(business_date: date, today: date, certificate: Certificate) -> bool:
    """Catch-up limit: a missed day is served while its certificate would still be valid."""
    return (today - business_date).days > certificate.validity_days


async def _unclaimed(session: AsyncSession, kind: str, period: str, rows: Sequence[Any], *,
                     by_person: bool = False) -> list[Due]:
    """The due customers whose claim for `period` is not taken yet.

    Rows are (id, name), or (id, name, phone) `by_person`: then the claim's subject is the
    person key (the phone across erasure), as `issue_certificates(by_person=True)` writes it.

    The claims are probed by their unique index, (kind, subject IN (...), period), 500 ids at a
    time. A correlated NOT EXISTS in the due query was planned by PostgreSQL, on a claims table
    whose statistics were stale, as a nested loop over every claim of the period for every due
    customer (0.4 s for 2,740 of them); this plan cannot go wrong that way. The claim insert
    (ON CONFLICT DO NOTHING) stays the guarantee; this only spares re-runs their work.
    """
    subject_of: dict[int, str] = {}
    due: list[Due] = []
    for row in rows:
        due.append(Due(row[0], row[1]))
        subject_of[row[0]] = person_key_for(row[0], row[2]) if by_person else str(row[0])
    claimed: set[str] = set()
    for part in _chunks([subject_of[d.customer_id] for d in due]):
        claimed.update((await session.execute(select(RewardClaim.subject).where(
            RewardClaim.kind == kind, RewardClaim.subject.in_(part), RewardClaim.period == period,
        ))).scalars())
    return [d for d in due if subject_of[d.customer_id] not in claimed]


def birthday_target(business_date: date, days_before: int) -> tuple[date, list[int]]:
    """The birthday served on `business_date` and the birth days that fall on it.

    29 February birthdays are served on 28 February in other years (DOMAIN.md,
    "Automatic certificates").
    """
    target = business_date + timedelta(days=days_before)
    days = [target.day]
    if target.month == 2 and target.day == 28 and not calendar.isleap(target.year):
        days.append(29)
    return target, days


async def due_birthdays(session: AsyncSession, business_date: date, days_before: int) -> list[Due]:
    """Customers whose birthday is served on `business_date` and who had no birthday certificate
    in the birthday's year: once per person (phone, across erasure) per year, so a birthday
    typed anew at a re-registration after "delete my data" gives no second certificate that
    year (docs/RULES.md, "Once per person")."""
    target, days = birthday_target(business_date, days_before)
    rows = await session.execute(
        select(Customer.id, Customer.name, Customer.phone).where(
            Customer.birth_month == target.month, Customer.birth_day.in_(days),
            Customer.erased_at.is_(None), Customer.blocked.is_(False),
        )
    )
    return await _unclaimed(session, "birthday", str(target.year), rows.all(), by_person=True)


async def birthday_certificates(dom: Domain, business_date: date, now: datetime | None = None) -> Issued:
    """Birthday certificates for the birthdays `days_before` days after `business_date`."""
    now = now or dom.clock.now()
    async with dom.db.reading() as session:
        _, program = await current_program(session)
        cert = program.birthday
        if cert is None or not cert.enabled:
            return Issued(skipped="disabled")
        if _too_late(business_date, now.astimezone(dom.tz).date(), cert):
            return Issued(skipped="beyond the certificate's validity")
        due = await due_birthdays(session, business_date, cert.days_before)
    target, _ = birthday_target(business_date, cert.days_before)
    # Sent days early, it says the birthday is coming (and that the certificate works already).
    early = target != business_date
    return await issue_certificates(
        dom, due, kind=CertificateKind.BIRTHDAY, certificate=cert, period_of=lambda _cid: str(target.year),
        message_key="scheduler-birthday-soon" if early else "scheduler-birthday",
        message_args={"birthday": f"{target.day:02d}.{target.month:02d}"} if early else {}, now=now, by_person=True,
    )


def _last_purchase_on(day: date, tz: ZoneInfo) -> tuple[Any, ...]:
    """Customers whose last purchase was on `day` (business time)."""
    return (Customer.last_purchase_at >= start_of_day(day, tz),
            Customer.last_purchase_at < start_of_day(day + timedelta(days=1), tz))


async def due_winbacks(session: AsyncSession, last_purchase_day: date, tz: ZoneInfo) -> list[Due]:
    rows = await session.execute(
        select(Customer.id, Customer.name).where(
            *_last_purchase_on(last_purchase_day, tz), Customer.erased_at.is_(None), Customer.blocked.is_(False),
        )
    )
    return await _unclaimed(session, "winback", last_purchase_day.isoformat(), rows.all())


async def winback_certificates(dom: Domain, business_date: date, now: datetime | None = None) -> Issued:
    """Win-back certificates for customers whose last purchase was `after_days` days before.

    The claim's period is the business date of that last purchase: once per period of
    inactivity, and a new purchase starts a new one (DOMAIN.md, "Automatic certificates").
    """
    now = now or dom.clock.now()
    async with dom.db.reading() as session:
        _, program = await current_program(session)
        cert = program.winback
        if cert is None or not cert.enabled:
            return Issued(skipped="disabled")
        if _too_late(business_date, now.astimezone(dom.tz).date(), cert):
            return Issued(skipped="beyond the certificate's validity")
        last_day = business_date - timedelta(days=cert.after_days)
        due = await due_winbacks(session, last_day, dom.tz)
    return await issue_certificates(
        dom, due, kind=CertificateKind.WINBACK, certificate=cert, period_of=lambda _cid: last_day.isoformat(),
        message_key="scheduler-winback", message_args={"days": cert.after_days}, now=now,
        still_due=_last_purchase_on(last_day, dom.tz),
    )


# --- Expiry ---------------------------------------------------------------------------------

async def write_off_expired(dom: Domain, business_date: date, now: datetime | None = None) -> dict[str, int]:
    """Write off what expired by the end of `business_date` (or by now, if that is earlier).

    A caught-up day writes off, dated that day, what expired on it, so the history reads as
    if the job had run on time (DOMAIN.md, "Points lots and the ledger").
    """
    now = now or dom.clock.now()
    as_of = min(now, start_of_day(business_date + timedelta(days=1), dom.tz))
    async with dom.db.reading() as session:  # most days nothing expires: no write transaction then
        due = (await session.execute(select(Lot.id).where(
            Lot.expired_at.is_(None), Lot.expires_at.is_not(None), Lot.expires_at <= as_of, Lot.remaining > 0,
        ).limit(1))).scalar()
    if due is None:
        return {"lots": 0, "points": 0}
    lots, points = await expire_lots(dom, as_of)
    return {"lots": lots, "points": points}


async def warn_expiring_points(dom: Domain, business_date: date, now: datetime | None = None) -> dict[str, int]:
    """Warn customers `expiry_warning_days` ahead: "350 points expire on 12.03".

    Lots expiring up to the end of business_date + N days that were not warned yet are
    marked `warned_at`; one message per customer and expiry date.
    """
    now = now or dom.clock.now()

    async def due_lots(session: AsyncSession) -> tuple[Any, ...] | None:
        """The conditions of the lots to warn about today, or None when warnings are off."""
        _, program = await current_program(session)
        days = program.points.expiry_warning_days
        if not days:
            return None
        until = start_of_day(business_date + timedelta(days=days + 1), dom.tz)
        return (Lot.expires_at > now, Lot.expires_at < until, Lot.remaining > 0, Lot.expired_at.is_(None),
                Lot.warned_at.is_(None), Lot.kind != LotKind.CERTIFICATE)

    reminders = _certificates_to_remind(dom, business_date, now)
    async with dom.db.reading() as session:  # most days nothing is due: no write transaction then
        due = await due_lots(session)
        points_due = due is not None and (await session.execute(select(Lot.id).where(*due).limit(1))).scalar()
        certificates_due = (await session.execute(select(Lot.id).where(*reminders).limit(1))).scalar()
        if not points_due and certificates_due is None:
            return {"lots": 0, "messages": 0}
    async with dom.db.transaction() as session:
        reminded = await _remind_certificates(session, dom, reminders, now)
        due = await due_lots(session)  # the program may have changed in between
        if due is None:
            return {"lots": 0, "messages": reminded}
        rows = (await session.execute(
            select(Lot.id, Lot.customer_id, Lot.remaining, Lot.expires_at, Customer.blocked)
            .join(Customer, Customer.id == Lot.customer_id).where(*due)
        )).all()
        if not rows:
            return {"lots": 0, "messages": reminded}
        for part in _chunks([r[0] for r in rows]):
            await session.execute(update(Lot).where(Lot.id.in_(part)).values(warned_at=now)
                                  .execution_options(synchronize_session=False))
        totals: dict[tuple[int, date], int] = defaultdict(int)
        for _lot, cid, remaining, expires_at, blocked in rows:
            if not blocked and expires_at is not None:
                totals[(cid, expires_at.astimezone(dom.tz).date())] += remaining
        chats = await _chats(session, sorted({cid for cid, _ in totals}))
        messages = [
            Outgoing(chats[cid], message_payload("scheduler-expiry-warning",
                                                 {"points": points, **day_month(day, dom.tz)}),
                     f"expiry-warning:{cid}:{day.isoformat()}")
            for (cid, day), points in sorted(totals.items()) if cid in chats
        ]
        sent = await enqueue_many(session, messages, now)
        return {"lots": len(rows), "messages": sent + reminded}


CERTIFICATE_REMINDER_DAYS = 3  # an unused certificate is recalled this many days before its end


def _certificates_to_remind(dom: Domain, business_date: date, now: datetime) -> tuple[Any, ...]:
    until = start_of_day(business_date + timedelta(days=CERTIFICATE_REMINDER_DAYS + 1), dom.tz)
    return (Lot.kind == LotKind.CERTIFICATE, Lot.expires_at > now, Lot.expires_at < until, Lot.remaining > 0,
            Lot.expired_at.is_(None), Lot.warned_at.is_(None), (Lot.available_at.is_(None)) | (Lot.available_at <= now))


async def _remind_certificates(session: AsyncSession, dom: Domain, due: tuple[Any, ...], now: datetime) -> int:
    """One reminder per certificate with points left on it, CERTIFICATE_REMINDER_DAYS
    before it ends: "your certificate of 500 points works until 12.03". Marked `warned_at` like
    points, so a catch-up or a restart never reminds twice."""
    rows = (await session.execute(
        select(Lot.id, Lot.customer_id, Lot.remaining, Lot.expires_at)
        .join(Customer, Customer.id == Lot.customer_id)
        .where(*due, Customer.blocked.is_(False), Customer.erased_at.is_(None))
    )).all()
    if not rows:
        return 0
    for part in _chunks([r[0] for r in rows]):
        await session.execute(update(Lot).where(Lot.id.in_(part)).values(warned_at=now)
                              .execution_options(synchronize_session=False))
    chats = await _chats(session, sorted({cid for _, cid, _, _ in rows}))
    return await enqueue_many(session, [
        Outgoing(chats[cid], message_payload("scheduler-certificate-reminder",
                                             {"points": remaining, **day_month(expires, dom.tz)}),
                 f"certificate-reminder:{lot_id}")
        for lot_id, cid, remaining, expires in rows if cid in chats and expires is not None
    ], now)


# --- Tiers ----------------------------------------------------------------------------------

_TIER_OPS = (OperationKind.PURCHASE, OperationKind.REFUND)


def _progress_column(program: Program) -> Any:
    """Per customer: money paid net of refunds, or purchases net of full refunds (models.program.tiers)."""
    if program.tiers.basis is ThresholdBasis.MONEY:
        return func.coalesce(func.sum(case(
            (Operation.kind == OperationKind.PURCHASE, Operation.cash_kopecks),
            (Operation.kind == OperationKind.REFUND, -Operation.cash_kopecks),
            else_=0,
        )), 0)
    return func.count().filter(Operation.kind == OperationKind.PURCHASE,
                               Operation.refunded_kopecks < Operation.amount_kopecks)


def _running_total(program: Program) -> Any:
    return Customer.paid_total_kopecks if program.tiers.basis is ThresholdBasis.MONEY else Customer.purchase_count


def _tier_case(program: Program, value: Any) -> Any:
    levels = program.tiers.levels
    whens = [(value >= program.tiers.threshold_units(levels[i]), i) for i in range(len(levels) - 1, 0, -1)]
    return case(*whens, else_=0) if whens else 0


@dataclass
class TierChanges:
    recalculated: int = 0
    down: int = 0
    up: int = 0
    near: int = 0
    full: bool = False
    messages: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"recalculated": self.recalculated, "down": self.down, "up": self.up, "near": self.near,
                "full": self.full, "messages": self.messages}


async def recalculate_tiers(
    dom: Domain, business_date: date, now: datetime | None = None, *, full: bool = False,
) -> TierChanges:
    """Daily tier work (DOMAIN.md, "Tiers (statuses)"): downgrades when purchases leave a rolling
    window (with a notice), and a notice to customers who bought yesterday and are near the
    next tier.

    `full` recomputes every customer (the first run, or after the program changed), in id
    slices; otherwise only the customers whose purchases left the window on `business_date`
    are recomputed, 500 at a time. Pinned tiers are left alone.
    """
    now = now or dom.clock.now()
    out = TierChanges(full=full)
    day_start = start_of_day(business_date, dom.tz)
    async with dom.db.reading() as session:
        _, program = await current_program(session)
        bounds = (await session.execute(select(func.min(Customer.id), func.max(Customer.id)))).one() if full else None
    window = program.tiers.window_days
    if bounds is not None:
        # A full recalculation walks the customers in id slices, one transaction each: memory and
        # the time a till waits for the write lock stay flat however big the base is.
        first, last = (bounds[0] or 0), (bounds[1] or 0)
        for lo in range(first, last + 1, TIER_SLICE):
            async with dom.db.transaction() as session:
                await _recalculate(session, dom, program, business_date, day_start, now, out,
                                   _ids_between(lo, lo + TIER_SLICE))
    elif window:
        # Only the customers whose purchases or refunds left the window on this day: their ids
        # first (an index range over one day of operations), then their sums by id, which the
        # planner serves from the (customer_id, created_at) index instead of a window-long scan.
        # From the previous day's start, not 24 hours back: a day is 23 or 25 hours long across a
        # DST change, and consecutive days' ranges must meet or a purchase never leaves the window.
        previous_start = start_of_day(business_date - timedelta(days=1), dom.tz)
        async with dom.db.reading() as session:
            left: list[int] = sorted({cid for cid in (await session.execute(select(Operation.customer_id).where(
                Operation.kind.in_(_TIER_OPS),
                Operation.created_at > previous_start - timedelta(days=window),
                Operation.created_at <= day_start - timedelta(days=window),
            ))).scalars() if cid is not None})
        for part in _chunks(left):
            async with dom.db.transaction() as session:
                await _recalculate(session, dom, program, business_date, day_start, now, out,
                                   _ids_in(part))
    async with dom.db.transaction() as session:
        await _near_next_tier(session, dom, program, business_date, now, out)
    return out


TIER_SLICE = 50_000


def _ids_between(lo: int, hi: int) -> Callable[[Any], list[Any]]:
    return lambda column: [column >= lo, column < hi]


def _ids_in(ids: Sequence[int]) -> Callable[[Any], list[Any]]:
    return lambda column: [column.in_(ids)]


async def _recalculate(session: AsyncSession, dom: Domain, program: Program, business_date: date,
                       day_start: datetime, now: datetime, out: TierChanges,
                       scope: Callable[[Any], list[Any]]) -> None:
    """Recompute the tiers of the customers `scope(id column)` selects."""
    window = program.tiers.window_days
    if window:
        since = day_start - timedelta(days=window)
        sub = (select(Operation.customer_id.label("cid"), _progress_column(program).label("value"))
               .where(Operation.kind.in_(_TIER_OPS), in_window(since), *scope(Operation.customer_id))
               .group_by(Operation.customer_id)).subquery()
        value = func.coalesce(sub.c.value, 0)
    else:
        value = _running_total(program)  # all time: the totals purchases keep (models.program.tiers)
    new_tier = _tier_case(program, value)
    stmt = select(Customer.id, Customer.tier_index, new_tier)
    if window:
        stmt = stmt.outerjoin(sub, sub.c.cid == Customer.id)
    stmt = stmt.where(Customer.erased_at.is_(None), Customer.tier_pinned.is_(None), Customer.tier_index != new_tier,
                      *scope(Customer.id))
    if not window:
        stmt = stmt.where(new_tier > Customer.tier_index)  # all time: never down
    changes = [(cid, old, int(new)) for cid, old, new in (await session.execute(stmt)).all()]
    out.recalculated += len(changes)
    await _apply_tiers(session, dom, program, changes, business_date, now, out)


async def _apply_tiers(session: AsyncSession, dom: Domain, program: Program,
                       changes: list[tuple[int, int, int]], business_date: date, now: datetime,
                       out: TierChanges) -> None:
    if not changes:
        return
    by_tier: dict[int, list[int]] = defaultdict(list)
    for cid, _old, new in changes:
        by_tier[new].append(cid)
    for tier, ids in by_tier.items():
        for part in _chunks(ids):
            await session.execute(update(Customer).where(Customer.id.in_(part)).values(tier_index=tier)
                                  .execution_options(synchronize_session=False))
    blocked: set[int] = set()
    for part in _chunks([c for c, _, _ in changes]):
        blocked.update((await session.execute(select(Customer.id).where(
            Customer.id.in_(part), Customer.blocked.is_(True)))).scalars())
    chats = await _chats(session, [c for c, _, _ in changes])
    messages = []
    for cid, old, new in changes:
        if new < old:
            out.down += 1
        else:
            out.up += 1
        if cid in chats and cid not in blocked:
            key = "scheduler-tier-down" if new < old else "scheduler-tier-up"
            messages.append(Outgoing(chats[cid], message_payload(key, {"tier": program.tier(new).name,
                                                                       "previous": program.tier(old).name}),
                                     f"tier:{cid}:{business_date.isoformat()}:{new}"))
    out.messages += await enqueue_many(session, messages, now)


async def _near_next_tier(session: AsyncSession, dom: Domain, program: Program, business_date: date,
                          now: datetime, out: TierChanges) -> None:
    """Customers who bought on the day before `business_date` and reached `near_next_percent`
    of the next tier's threshold get one notice per tier (per window period with a window)."""
    levels = program.tiers.levels
    if len(levels) < 2 or program.tiers.near_next_percent <= 0:
        return
    start = start_of_day(business_date - timedelta(days=1), dom.tz)
    end = start_of_day(business_date, dom.tz)
    buyers = select(Operation.customer_id).where(
        Operation.kind == OperationKind.PURCHASE, Operation.created_at >= start, Operation.created_at < end)
    window = program.tiers.window_days
    filters = (Customer.erased_at.is_(None), Customer.blocked.is_(False), Customer.tier_pinned.is_(None))
    if window:
        sub = (select(Operation.customer_id.label("cid"), _progress_column(program).label("value"))
               .where(Operation.kind.in_(_TIER_OPS), Operation.customer_id.in_(buyers),
                      in_window(now - timedelta(days=window)))
               .group_by(Operation.customer_id).subquery())
        query = select(Customer.id, Customer.tier_index, sub.c.value).join(sub, sub.c.cid == Customer.id)
    else:
        query = select(Customer.id, Customer.tier_index, _running_total(program)).where(Customer.id.in_(buyers))
    rows = (await session.execute(query.where(*filters))).all()
    period = str(business_date.toordinal() // window) if window else "all"
    share = program.tiers.near_next_percent / 100
    messages = []
    for cid, tier, value in rows:
        nxt = tier + 1
        if nxt >= len(levels):
            continue
        threshold = program.tiers.threshold_units(levels[nxt])
        if not (math.ceil(threshold * share) <= int(value) < threshold):
            continue
        missing = threshold - int(value)
        if program.tiers.basis is ThresholdBasis.MONEY:
            key, args = "scheduler-tier-near-money", {"tier": levels[nxt].name, "kopecks": missing}
        else:
            key, args = "scheduler-tier-near-purchases", {"tier": levels[nxt].name, "count": missing}
        messages.append((cid, key, args, f"tier-near:{cid}:{nxt}:{period}"))
    if not messages:
        return
    chats = await _chats(session, [m[0] for m in messages])
    sent = await enqueue_many(session, [Outgoing(chats[cid], message_payload(key, args), dedupe)
                                        for cid, key, args, dedupe in messages if cid in chats], now)
    out.near += sent
    out.messages += sent


# --- Housekeeping ---------------------------------------------------------------------------

Cleanup = Callable[[AsyncSession, datetime], Awaitable[int]]
HOUSEKEEPING: dict[str, Cleanup] = {}
SENT_MESSAGES_KEPT = timedelta(days=180)


def register_housekeeping(name: str, cleanup: Cleanup) -> None:
    """Let other areas add their stale data to the daily housekeeping (checkout quotes, finished
    FSM data...): `cleanup(session, now)` deletes what is stale and returns how many rows."""
    HOUSEKEEPING[name] = cleanup


async def _old_sent_messages(session: AsyncSession, now: datetime) -> int:
    """Delivered one-to-one messages older than half a year (broadcast rows feed their stats)."""
    result = await session.execute(delete(OutboxMessage).where(
        OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.CANCELLED]),
        OutboxMessage.broadcast_id.is_(None), OutboxMessage.created_at < now - SENT_MESSAGES_KEPT))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def _lapsed_leases(session: AsyncSession, now: datetime) -> int:
    result = await session.execute(delete(Lease).where(Lease.expires_at < now - timedelta(days=1)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def housekeeping(dom: Domain, now: datetime | None = None) -> dict[str, int]:
    now = now or dom.clock.now()
    tasks: dict[str, Cleanup] = {"customer_codes": purge_codes, "sent_messages": _old_sent_messages,
                                 "lapsed_leases": _lapsed_leases, "checkouts": purge_checkouts, **HOUSEKEEPING}
    done: dict[str, int] = {}
    async with dom.db.transaction() as session:
        for name, task in tasks.items():
            try:
                async with session.begin_nested():  # one broken cleanup must not stop the others
                    done[name] = await task(session, now)
            except Exception:
                log.exception("housekeeping %s failed", name)
                done[name] = -1
    return done


# --- The monthly report ---------------------------------------------------------------------

MonthlyReportBuilder = Callable[[AsyncSession, date, ZoneInfo], Awaitable[dict[str, Any]]]


async def send_monthly_report(
    dom: Domain, business_date: date, owner_ids: Iterable[int], builder: MonthlyReportBuilder,
    now: datetime | None = None,
) -> dict[str, Any]:
    """On the 1st: last month's report to every owner, once per owner and month. `builder`
    makes the message (the reports area's `monthly_report_payload`: one definition of every
    figure, the same as `/report`)."""
    if business_date.day != 1:
        return {"skipped": "not the first day of a month"}
    now = now or dom.clock.now()
    month, _ = previous_month(business_date)
    owners = sorted(set(owner_ids))
    async with dom.db.transaction() as session:
        payload = await builder(session, month, dom.tz)
        written = 0
        for owner in owners:
            exists_already = (await session.execute(select(OutboxMessage.id).where(
                OutboxMessage.dedupe_key == f"monthly-report:{owner}:{month:%Y-%m}"))).scalar()
            if exists_already is None:
                session.add(OutboxMessage(chat_id=owner, method="sendMessage", payload=payload,
                                          dedupe_key=f"monthly-report:{owner}:{month:%Y-%m}",
                                          not_before=now, created_at=now))
                written += 1
    return {"month": f"{month:%Y-%m}", "owners": len(owners), "messages": written}


__all__ = [
    "HOUSEKEEPING", "Due", "Issued", "JobRun", "LastRun", "MonthlyReportBuilder",
    "Outgoing", "TierChanges", "birthday_certificates", "birthday_target", "business_start",
    "due_birthdays", "due_winbacks", "enqueue_many", "housekeeping", "issue_certificates", "last_run",
    "recalculate_tiers", "record_run", "register_housekeeping",
    "send_monthly_report", "warn_expiring_points", "winback_certificates", "write_off_expired",
]


async def tiers_need_full_run(dom: Domain) -> bool:
    """Everyone's tier is recomputed on the first run and after the program changed (thresholds
    or window); otherwise only the customers whose purchases left the window that day."""
    async with dom.db.reading() as session:
        version, _ = await current_program(session)
        last = await last_run(session, "tiers")
    return last is None or last.program_version != version
