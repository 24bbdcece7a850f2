"""Points lots and the ledger (DOMAIN.md, "Points lots and the ledger"): entries, running totals,
the one definition of each figure, expiry, the customer's history, and the invariants
`loyalty-bot check` verifies.

The doors (bot, HTTP API, CLI, scheduler) import only what this module exports."""

from models.ledger.history import HISTORY_PAGE, certificates_of, history_page, next_expiry, referral_stats
from models.ledger.invariants import check_ledger

__all__ = [
    "HISTORY_PAGE",
    "certificates_of",
    "check_ledger",
    "history_page",
    "next_expiry",
    "referral_stats",
]
