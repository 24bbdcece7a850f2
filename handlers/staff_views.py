"""Texts of the staff screens: customer found, quote, confirmation, receipt, /me.

Only formatting: every figure comes from the domain (models/till/, models/purchase/purchases.py).
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from bot.i18n import Translator
from bot.report_render import whole_roubles
from models.kernel import DomainError, InvalidAmount
from models.program import text_in
from models.purchase import PurchaseResult, RefundPreview, RefundResult
from models.till import CheckoutView, CustomerCard, PeriodStats, StaffStats


def percent_text(value: Decimal) -> str:
    """12.50 → "12.5", 20 → "20" (never "2E+1")."""
    return f"{Decimal(value).normalize():f}"


def customer_found(t: Translator, card: CustomerCard, found_by: str) -> str:
    lines = [t("staff-customer-found", name=escape(card.name or "—"), tier=escape(text_in(card.tier_name, t.locale)),
               balance=t("points", n=card.balance))]
    if card.certificates:
        lines.append(t("staff-customer-certificates", points=t("points", n=card.certificates)))
    if found_by == "phone":
        lines.append(t("staff-found-by-phone") if card.has_telegram else t("staff-found-by-phone-no-telegram"))
    lines.append(t("staff-ask-amount"))
    return "\n".join(lines)


def quote_text(t: Translator, view: CheckoutView, *, requoted: bool = False) -> str:
    q = view.quote
    lines = [t("staff-quote-requoted")] if requoted else []
    tier = escape(text_in(q.tier_name, t.locale))
    lines.append(t("staff-quote-head", name=escape(view.customer.name or "—"), tier=tier,
                   balance=t("points", n=q.balance), amount=q.amount_kopecks))
    if q.certificate is not None:
        until = t.day(q.certificate.expires_at) if q.certificate.expires_at else "—"
        lines.append(t("staff-quote-certificate", points=t("points", n=q.certificate.remaining),
                       percent=percent_text(q.certificate.max_redeem_percent), until=until))
    if not view.can_redeem:
        lines.append(t("staff-quote-accrual-only"))
    elif q.max_points == 0:
        lines.append(t("staff-quote-nothing-to-pay"))
    else:
        reason = (t("staff-quote-why-cap", percent=percent_text(q.max_redeem_percent), tier=tier)
                  if q.regular_allowed == q.regular_cap else t("staff-quote-why-balance"))
        lines.append(t("staff-quote-max", points=t("points", n=q.max_points), reason=reason))
        if q.certificate is not None and q.certificate.allowed:
            lines.append(t("staff-quote-with-certificate", points=t("points", n=q.certificate.allowed)))
        if view.needs_customer_confirmation:
            lines.append(t("staff-quote-phone-confirmation"))
    lines.append(t("staff-quote-cashback", earned=t("points", n=q.cashback_for(0))))
    return "\n".join(lines)


def confirmation_text(t: Translator, view: CheckoutView) -> str:
    points = view.points or 0
    q = view.quote
    return t("staff-confirm", name=escape(view.customer.name or "—"), amount=q.amount_kopecks,
             points=t("points", n=points), cash=q.cash_for(points), earned=t("points", n=q.cashback_for(points)))


def receipt_text(t: Translator, result: PurchaseResult) -> str:
    return t("staff-receipt", operation=str(result.operation_id), amount=result.amount_kopecks,
             points=t("points", n=result.points_paid), cash=result.cash_kopecks,
             earned=t("points", n=result.cashback), balance=t("points", n=result.balance_after))


def refund_text(t: Translator, result: RefundResult) -> str:
    if result.customer_erased:  # their points stay written off, nobody is told (docs/RULES.md, "Refunds")
        lines = [t("abuse-refund-done-erased", operation=str(result.purchase_id), amount=result.amount_kopecks,
                   cash=result.cash_kopecks),
                 t("abuse-refund-erased", points=t("points", n=result.points_lost))]
    else:
        lines = [t("staff-refund-done", operation=str(result.purchase_id), amount=result.amount_kopecks,
                   cash=result.cash_kopecks, returned=t("points", n=result.points_returned),
                   reversed=t("points", n=result.cashback_reversed))]
    if not result.customer_erased and result.shortfall:
        lines.append(t("staff-refund-shortfall", points=t("points", n=result.shortfall)))
    if not result.fully_refunded:
        lines.append(t("staff-refund-partial-left"))
    return "\n".join(lines)


def refund_preview_text(t: Translator, p: RefundPreview) -> str:
    """What the partial refund will do, before the cashier confirms it."""
    lines = [t("staff-refund-preview", operation=str(p.purchase_id), amount=p.amount_kopecks, cash=p.cash_kopecks,
               returned=t("points", n=p.points_returned), reversed=t("points", n=p.cashback_reversed))]
    if not p.fully_refunded:
        lines.append(t("staff-refund-partial-left"))
    return "\n".join(lines)


def _period(t: Translator, title: str, p: PeriodStats) -> str:
    rating = str(p.average_rating).replace(".", "," if t.locale == "ru" else ".") if p.average_rating else "—"
    # Whole roubles, rounded as /report rounds them: the same figure reads the same everywhere.
    return t("staff-me-period", title=title, purchases=p.purchases, revenue=whole_roubles(p.revenue_kopecks),
             average=whole_roubles(p.average_check) or 0, paid=t("points", n=p.points_paid),
             accrued=t("points", n=p.points_accrued), refunds=p.refunds, sales=p.sales_without_card,
             enrolled=p.enrolled, ratings=p.ratings, rating=rating)


def me_text(t: Translator, stats: StaffStats, link: str) -> str:
    return "\n\n".join([
        t("staff-me-head", name=escape(stats.name)),
        _period(t, t("staff-me-today"), stats.today),
        _period(t, t("staff-me-month"), stats.month),
        t("staff-me-link", link=link),
    ])


def error_text(t: Translator, exc: DomainError) -> str:
    """A sentence for a domain error; amounts say exactly what was wrong with the input."""
    if isinstance(exc, InvalidAmount):
        reason = exc.detail if exc.detail in {"empty", "sign", "format", "decimals", "zero", "too_large",
                                              "digits"} else "format"
        return t(f"staff-amount-{reason.replace('_', '-')}")
    key = f"staff-error-{exc.code.replace('_', '-')}"
    return t(key) if t.i18n.has(t.locale, key) else t("error-generic")
