"""A purchase and its refund (DOMAIN.md, "A purchase", "Refunds"): the quote, the commit,
the refund, a sale without a card.

The doors (bot, HTTP API, CLI, scheduler) import only what this module exports."""

from models.purchase.purchases import PurchaseResult, RefundPreview, RefundResult

__all__ = [
    "PurchaseResult",
    "RefundPreview",
    "RefundResult",
]
