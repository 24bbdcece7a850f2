"""Every table of the schema (SQLAlchemy 2 typed ORM), in one module: importing it registers them all.

Balances are never stored: a balance is the sum of `remaining` over a customer's live lots,
and every change of a lot's `remaining` is an append-only `LedgerEntry` written in the
same transaction (DOMAIN.md, "Points lots and the ledger").
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from models.kernel.base import Base, BigId, Int64, JsonType, UTCDateTime, str_enum


class LotKind(StrEnum):
    WELCOME = "welcome"
    CASHBACK = "cashback"
    REFERRAL = "referral"
    REVIEW = "review"
    CERTIFICATE = "certificate"
    MANUAL = "manual"
    IMPORT = "import"


class CertificateKind(StrEnum):
    BIRTHDAY = "birthday"
    WINBACK = "winback"
    CAMPAIGN = "campaign"
    OWNER = "owner"
    PROMO = "promo"  # a promo code's certificate (models/campaigns/promo.py)


class EntryKind(StrEnum):
    GRANT = "grant"  # the lot's creation: +amount
    REDEEM = "redeem"  # points paid for a purchase
    RETURN = "return"  # points returned to their lot by a refund
    REVERSAL = "reversal"  # cashback/referral taken back by a refund
    EXPIRE = "expire"  # expired remainder written off
    ADJUST = "adjust"  # manual debit by the owner
    ERASE = "erase"  # not used for balances; kept for completeness of the enum


class OperationKind(StrEnum):
    PURCHASE = "purchase"
    REFUND = "refund"
    MANUAL = "manual"  # owner/staff adjustment (+/-)
    IMPORT = "import"
    REWARD = "reward"  # welcome, review, certificate grants, API rewards
    SALE_NO_CARD = "sale_no_card"
    EXPIRY = "expiry"


class SourceKind(StrEnum):
    REFERRAL = "referral"
    CAMPAIGN = "campaign"
    SOURCE = "source"
    STAFF = "staff"
    IMPORT = "import"
    WALK_IN = "walk_in"


class Role(StrEnum):
    OWNER = "owner"
    STAFF = "staff"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # the HTTP call is under way (bot/sender.py: crash semantics)
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    CANCELLED = "cancelled"


class ReviewStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class ProgramVersion(Base):
    __tablename__ = "program_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[dict[str, Any]] = mapped_column(JsonType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(BigId)  # telegram id of the owner, if any
    comment: Mapped[str] = mapped_column(String(200), default="")


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_birthday_md", "birth_month", "birth_day"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    birthday: Mapped[date | None] = mapped_column(Date)
    # Month and day kept apart so the birthday job is an indexed lookup, not a scan.
    birth_month: Mapped[int | None] = mapped_column(Integer)
    birth_day: Mapped[int | None] = mapped_column(Integer)
    referral_code: Mapped[str] = mapped_column(String(16), unique=True)
    referrer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    source_kind: Mapped[SourceKind] = mapped_column(str_enum(SourceKind), default=SourceKind.WALK_IN)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    enrolled_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # finished bot registration
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    tier_index: Mapped[int] = mapped_column(Integer, default=0)
    tier_pinned: Mapped[int | None] = mapped_column(Integer)
    # Running totals for the all-time tier basis, kept by purchases and refunds (checked by
    # `loyalty-bot check` against the operations); base_* is history brought by an import.
    paid_total_kopecks: Mapped[int] = mapped_column(BigId, default=0)
    purchase_count: Mapped[int] = mapped_column(Integer, default=0)
    base_paid_kopecks: Mapped[int] = mapped_column(BigId, default=0)
    base_purchase_count: Mapped[int] = mapped_column(Integer, default=0)
    last_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Running totals for the reports and RFM (docs/REPORTS.md, "How it is computed"), over this
    # customer's purchases net of refunds, kept by purchases and refunds in the same transaction
    # (checked by `loyalty-bot check`): check amounts (money and points), points paid in money,
    # check amounts of purchases paid partly with a certificate, and the time of the last purchase
    # that is not fully refunded. The number of such purchases is purchase_count − base_purchase_count.
    # Server defaults: rows written by plain SQL (tests, tools) start at zero like a new customer.
    revenue_kopecks: Mapped[int] = mapped_column(BigId, default=0, server_default=text("0"))
    points_paid_kopecks: Mapped[int] = mapped_column(BigId, default=0, server_default=text("0"))
    certificate_revenue_kopecks: Mapped[int] = mapped_column(BigId, default=0, server_default=text("0"))
    last_live_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every balance-changing operation: the row write is the per-customer lock.
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    imported_key: Mapped[str | None] = mapped_column(String(64), unique=True)


class TelegramAccount(Base):
    """A Telegram user the bot has seen; linked to at most one customer."""

    __tablename__ = "telegram_accounts"

    telegram_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))
    unreachable: Mapped[bool] = mapped_column(Boolean, default=False)  # 403: blocked the bot
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    linked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class BroadcastOptOut(Base):
    """The customer turned promotional broadcasts off in /settings (advertising needs consent);
    messages about their own points, certificates and purchases still come. A row of its own,
    not a column of `customers`: withdrawing consent is recorded with its time, and no row
    means "receives broadcasts" (everyone already in the base when this arrived)."""

    __tablename__ = "broadcast_opt_outs"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Staff(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    telegram_id: Mapped[int | None] = mapped_column(BigId, unique=True)
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)  # cash-register cashier id
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.STAFF)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    referral_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class StaffInvite(Base):
    __tablename__ = "staff_invites"

    token: Mapped[str] = mapped_column(String(40), primary_key=True)
    created_by: Mapped[int] = mapped_column(BigId)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[int | None] = mapped_column(BigId)


class Campaign(Base):
    """A deep link `g_<code>` with a certificate, or a source tag `s_<code>` without one."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    partner: Mapped[str | None] = mapped_column(String(80))
    is_source: Mapped[bool] = mapped_column(Boolean, default=False)
    points: Mapped[int] = mapped_column(Integer, default=0)
    max_redeem_percent: Mapped[str] = mapped_column(String(8), default="100")
    validity_days: Mapped[int] = mapped_column(Integer, default=30)
    issue_limit: Mapped[int | None] = mapped_column(Integer)
    issued_count: Mapped[int] = mapped_column(Integer, default=0)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LinkVisit(Base):
    """First opening of a campaign/source link by a Telegram account (the funnel's top)."""

    __tablename__ = "link_visits"
    __table_args__ = (UniqueConstraint("campaign_id", "telegram_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    telegram_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Operation(Base):
    __tablename__ = "operations"
    __table_args__ = (
        Index("ix_operations_customer_created", "customer_id", "created_at"),
        Index("ix_operations_kind_created", "kind", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[OperationKind] = mapped_column(str_enum(OperationKind))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    program_version: Mapped[int] = mapped_column(ForeignKey("program_versions.version"))
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    # What the request under the key asked for (models/kernel/replays.py): a replay must match it.
    request_hash: Mapped[str | None] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Purchase: the check A; refund: the part of the check refunded; sale without card: the check.
    amount_kopecks: Mapped[int] = mapped_column(BigId, default=0)
    # Money paid (A − points × point value); for a refund, the money given back.
    cash_kopecks: Mapped[int] = mapped_column(BigId, default=0)
    points_paid: Mapped[int] = mapped_column(Int64, default=0)  # refund: points returned
    cashback: Mapped[int] = mapped_column(Int64, default=0)  # refund: cashback reversed
    referral_paid: Mapped[int] = mapped_column(Int64, default=0)  # refund: referral reversed
    points_delta: Mapped[int] = mapped_column(Int64, default=0)  # manual/import/reward grants
    # The certificate lot used; no foreign key because lots reference operations (a cycle).
    certificate_lot_id: Mapped[int | None] = mapped_column(BigId)
    tier_index: Mapped[int | None] = mapped_column(Integer)
    refunded_kopecks: Mapped[int] = mapped_column(BigId, default=0)  # purchase: refunded so far
    shortfall: Mapped[int] = mapped_column(Int64, default=0)  # refund: points not recoverable
    found_by: Mapped[str | None] = mapped_column(String(16))  # code, qr, phone, api, ...
    receipt_number: Mapped[str | None] = mapped_column(String(64))
    comment: Mapped[str] = mapped_column(String(300), default="")
    channel: Mapped[str] = mapped_column(String(16), default="bot")  # bot, api, cli, job, import


class TillHour(Base):
    """Card purchases and sales without a card per UTC hour and staff member, net of refunds:
    what the reports' staff table, monthly series and no-card figures read instead of the
    operations (docs/REPORTS.md). Kept by purchases, refunds and sales without a card in the
    same transaction (one upsert each); a refund changes the row of the purchase's hour.
    `staff_key` is the staff id, 0 for none (a key column cannot be NULL)."""

    __tablename__ = "till_hours"

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    staff_key: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    card_n: Mapped[int] = mapped_column(Integer, default=0)  # purchases not fully refunded
    card_rev: Mapped[int] = mapped_column(BigId, default=0)  # their check amounts, net of refunds
    card_pts: Mapped[int] = mapped_column(BigId, default=0)  # points paid in money, net of refunds
    plain_n: Mapped[int] = mapped_column(Integer, default=0)  # sales without a card
    plain_rev: Mapped[int] = mapped_column(BigId, default=0)


class Lot(Base):
    __tablename__ = "lots"
    __table_args__ = (
        CheckConstraint("remaining >= 0", name="remaining_not_negative"),
        CheckConstraint("remaining <= amount", name="remaining_within_amount"),
        Index("ix_lots_customer_live", "customer_id", "expires_at"),
        # Only lots that still hold points: expiry and its warnings stay proportional to the
        # day's work, not to every lot that ever expired or was spent.
        Index("ix_lots_expires_open", "expires_at",
              postgresql_where=text("expired_at IS NULL AND remaining > 0"),
              sqlite_where=text("expired_at IS NULL AND remaining > 0")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    kind: Mapped[LotKind] = mapped_column(str_enum(LotKind))
    amount: Mapped[int] = mapped_column(Int64)
    remaining: Mapped[int] = mapped_column(Int64)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    available_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # pending until then
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    # Certificates only: their own cap (percent as a decimal string) and origin.
    max_redeem_percent: Mapped[str | None] = mapped_column(String(8))
    certificate_kind: Mapped[CertificateKind | None] = mapped_column(str_enum(CertificateKind))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"), index=True)
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # written off
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # expiry warning sent


class LedgerEntry(Base):
    __tablename__ = "ledger_entries"
    __table_args__ = (Index("ix_ledger_customer_created", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), index=True)
    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind))
    delta: Mapped[int] = mapped_column(Int64)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RewardClaim(Base):
    """Once-only rewards, guaranteed by a unique key rather than in-memory flags.

    kind/subject/period: ("welcome", phone hash, ""), ("birthday", person, "2026"),
    ("winback", customer, last purchase date), ("campaign", person, campaign id),
    ("review", person, site), ("referral_first", referee's person, ""),
    ("referrer", person, referrer id or "" for none: the referrer fixed for a phone forever),
    ("promo", person, promo code id).
    "person" is `models.kernel.claims.person_key_for`: "p:" + the keyed phone fingerprint, which
    survives erasure ("c:<customer id>" without a phone); docs/RULES.md, "Once per person".
    """

    __tablename__ = "reward_claims"
    __table_args__ = (UniqueConstraint("kind", "subject", "period"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str] = mapped_column(String(80))
    period: Mapped[str] = mapped_column(String(40), default="")
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CustomerCode(Base):
    """The 6-digit single-use code shown on the card (DOMAIN.md, "The customer code")."""

    __tablename__ = "customer_codes"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))


class Rating(Base):
    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"), index=True)
    score: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)


class ReviewClaim(Base):
    __tablename__ = "review_claims"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    site: Mapped[str] = mapped_column(String(40))
    file_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[ReviewStatus] = mapped_column(str_enum(ReviewStatus), default=ReviewStatus.PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[int | None] = mapped_column(BigId)
    operation_id: Mapped[int | None] = mapped_column(ForeignKey("operations.id"))


class OutboxMessage(Base):
    """A message waiting to be sent; written in the transaction that caused it."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_pending", "status", "not_before", "id"),
        Index("ix_outbox_broadcast", "broadcast_id", "status"),
        {"sqlite_autoincrement": True},  # housekeeping deletes old rows; their ids never come back
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigId)
    method: Mapped[str] = mapped_column(String(24), default="sendMessage")
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    broadcast_id: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class ChatMigration(Base):
    """A group upgraded to a supergroup: the sender sends what is queued for `old_chat_id`
    to `new_chat_id` (Telegram refuses the old id with `migrate_to_chat_id`)."""

    __tablename__ = "chat_migrations"

    old_chat_id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    new_chat_id: Mapped[int] = mapped_column(BigId)
    migrated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_telegram_id: Mapped[int | None] = mapped_column(BigId, index=True)
    actor_role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(48))
    target: Mapped[str | None] = mapped_column(String(80))
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class Lease(Base):
    """A named lease so one process runs a job at a time (SQLite; PostgreSQL uses advisory locks)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


__all__ = [
    "AuditEntry", "Campaign", "CertificateKind", "ChatMigration", "Customer", "CustomerCode", "EntryKind",
    "Lease", "LedgerEntry", "LinkVisit", "Lot", "LotKind", "Operation", "OperationKind",
    "OutboxMessage", "OutboxStatus", "ProgramVersion", "Rating", "ReviewClaim", "ReviewStatus",
    "RewardClaim", "Role", "SourceKind", "Staff", "StaffInvite", "TelegramAccount", "TillHour",
]


# --- models/partner/api_keys.py's tables ---


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (Index("ix_api_keys_name_active", "name", "revoked_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    company_id: Mapped[int] = mapped_column(BigId, index=True)
    name: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(BigId)  # owner's telegram id; None from the CLI
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Kept so a revoked key's operations can still be traced to the till that made them.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


# --- models/automation/jobs.py's tables ---


class JobRun(Base):
    """A job finished for a business date: the catch-up runner starts after the last one."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("name", "business_date"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    business_date: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    holder: Mapped[str] = mapped_column(String(100), default="")
    program_version: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


# --- models/owner/broadcasts.py's tables ---


class BroadcastStatus(StrEnum):
    DRAFT = "draft"  # composed, previewed, not confirmed
    SENDING = "sending"  # rows queued; the sender is working through them
    DONE = "done"  # no row left pending
    CANCELLED = "cancelled"  # the owner pressed Cancel; pending rows became cancelled


class SegmentKind(StrEnum):
    ALL = "all"
    TIER = "tier"  # value: tier index
    INACTIVE = "inactive"  # value: days without a purchase (≥)
    RFM = "rfm"  # value: an RFM segment name (models/reports/rfm.py SEGMENTS)
    CAMPAIGN = "campaign"  # value: campaign or source-tag id (first touch)
    SOURCE_KIND = "source_kind"  # value: a SourceKind (referral, import, ...)
    BIRTHDAY_MONTH = "birthday_month"  # value: 1..12
    EXPIRING = "expiring"  # value: a certificate expires within this many days


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_by: Mapped[int] = mapped_column(BigId)  # the owner's telegram id
    text: Mapped[str] = mapped_column(Text, default="")  # HTML (formatting kept)
    photo: Mapped[str | None] = mapped_column(String(200))  # Telegram file_id
    buttons: Mapped[list[Any]] = mapped_column(JsonType, default=list)  # [[{"text", "url"}]]
    segment: Mapped[SegmentKind] = mapped_column(str_enum(SegmentKind))
    segment_value: Mapped[str] = mapped_column(String(40), default="")
    status: Mapped[BroadcastStatus] = mapped_column(str_enum(BroadcastStatus), default=BroadcastStatus.DRAFT)
    recipients: Mapped[int] = mapped_column(Integer, default=0)  # rows queued at confirmation
    owner_chat_id: Mapped[int] = mapped_column(BigId)  # where the progress message lives
    progress_message_id: Mapped[int | None] = mapped_column(Integer)
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# --- models/campaigns/promo.py's tables ---

CODE_MIN, CODE_MAX = 3, 20  # 20 Cyrillic letters still fit a deep link (bot/deeplinks.py)
DEFAULT_VALIDITY_DAYS = 30


class PromoCode(Base):
    __tablename__ = "promo_codes"
    __table_args__ = ({"sqlite_autoincrement": True},)  # ids are in deep links never reused

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(CODE_MAX))  # as the owner typed it, normalised
    lookup_key: Mapped[str] = mapped_column(String(CODE_MAX), unique=True)  # `lookup_key(code)`
    points: Mapped[int] = mapped_column(Int64)
    max_redeem_percent: Mapped[str] = mapped_column(String(8), default="100")
    validity_days: Mapped[int] = mapped_column(Integer, default=DEFAULT_VALIDITY_DAYS)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the first day's start, business time
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)  # exclusive: the day after the last day
    uses_limit: Mapped[int | None] = mapped_column(Integer)  # None: no total limit
    uses_count: Mapped[int] = mapped_column(Integer, default=0)
    points_given: Mapped[int] = mapped_column(Int64, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[int | None] = mapped_column(BigId)  # the owner's telegram id
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PromoCodeUse(Base):
    """One redemption: the customer, the operation that granted the certificate."""

    __tablename__ = "promo_code_uses"
    __table_args__ = (UniqueConstraint("promo_code_id", "customer_id"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    promo_code_id: Mapped[int] = mapped_column(ForeignKey("promo_codes.id"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("lots.id"))
    points: Mapped[int] = mapped_column(Int64)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


# --- models/till/'s tables ---


class CheckoutQuote(Base):
    """A checkout in progress: who, whom, how much and what was chosen (server-side state)."""

    __tablename__ = "checkout_quotes"
    # Housekeeping deletes finished checkouts; `quote:<id>` keys, buttons and audit targets are
    # built from the id, so on SQLite it must never be handed out again (AUTOINCREMENT).
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    chat_id: Mapped[int | None] = mapped_column(BigId)  # where the checkout runs (private or staff group)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_kopecks: Mapped[int] = mapped_column(BigId)
    points: Mapped[int | None] = mapped_column(Int64)  # None: not chosen yet
    certificate_lot_id: Mapped[int | None] = mapped_column(BigId)  # an explicit choice
    found_by: Mapped[str] = mapped_column(String(16))  # code, qr, phone
    code: Mapped[str | None] = mapped_column(String(6))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    operation_id: Mapped[int | None] = mapped_column(BigId)  # the purchase, once committed


class PhoneConfirmation(Base):
    """The customer's Confirm/Decline for paying with points after a phone lookup."""

    __tablename__ = "phone_confirmations"
    __table_args__ = ({"sqlite_autoincrement": True},)  # `phone-confirm:<id>` keys and buttons

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("checkout_quotes.id"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_kopecks: Mapped[int] = mapped_column(BigId)
    points: Mapped[int] = mapped_column(Int64)
    # pending → confirming → confirmed | stale | failed; or pending → declined | expired | cancelled
    # (cancelled: the cashier cancelled the checkout or asked again with other figures)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    operation_id: Mapped[int | None] = mapped_column(BigId)
