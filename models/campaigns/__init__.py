"""Certificates and campaigns (DOMAIN.md, "Certificates and campaigns"): certificates and
promo codes.

The doors (bot, HTTP API, CLI, scheduler) import only what this module exports."""

from models.campaigns.certificates import claim_campaign, record_link_visit
from models.campaigns.promo import (
    REASONS,
    PromoSpec,
    create_promo,
    disable_promo,
    list_promos,
    redeem_promo,
    status_of,
)

__all__ = [
    "REASONS",
    "PromoSpec",
    "claim_campaign",
    "create_promo",
    "disable_promo",
    "list_promos",
    "record_link_visit",
    "redeem_promo",
    "status_of",
]
