"""The figures people read, each defined once (docs/REPORTS.md, "The figures").

Every place that shows one of these — `/me`, `/report` and its staff table, the XLSX and
JSON, the CLI, the partner API — computes it from here, so the same data gives the same
number everywhere (issue 16: `/me`, `/report` and the staff line once showed three different
average checks for one cashier).
"""

from __future__ import annotations

from fractions import Fraction

from sqlalchemy import and_
from sqlalchemy.sql.elements import ColumnElement

from models.kernel.tables import Operation, OperationKind


def ratio(numerator: int, denominator: int) -> Fraction | None:
    """An exact share; None when the denominator is zero (shown as a dash)."""
    return Fraction(numerator, denominator) if denominator else None


def live_purchase() -> ColumnElement[bool]:
    """A card purchase that counts: not fully refunded ("purchases with the card")."""
    return and_(Operation.kind == OperationKind.PURCHASE, Operation.refunded_kopecks < Operation.amount_kopecks)


def net_revenue() -> ColumnElement[int]:
    """A purchase's check amount (money and points) less what was refunded ("card revenue")."""
    return Operation.amount_kopecks - Operation.refunded_kopecks


def net_points_paid() -> ColumnElement[int]:
    """Points paid in kopecks, less the share refunds gave back (as `refund_purchase` does)."""
    paid = Operation.amount_kopecks - Operation.cash_kopecks
    return paid - (paid * Operation.refunded_kopecks) // Operation.amount_kopecks


def average_check(card_revenue: int, card_purchases: int) -> Fraction | None:
    """THE average check: card revenue / card purchases (sales without a card are compared
    with it separately, as "card vs no card")."""
    return ratio(card_revenue, card_purchases)
