"""Staff at the till (DOMAIN.md, "Roles", "A purchase"): who is acting, the team, finding the
customer, the checkout and the phone confirmation, refunds, fraud alerts, staff figures.

The doors (bot, HTTP API, CLI, scheduler) import only what this module exports."""

from models.till.access import NotAllowed, StaffActor, refuse_staff_button
from models.till.checkout import (
    AwaitingCustomer,
    CheckoutView,
    Committed,
    Requoted,
    answer_phone_confirmation,
    cancel_checkout,
    choose_certificate,
    choose_points,
    confirm_checkout,
    get_checkout,
    max_check,
    start_checkout,
)
from models.till.lookup import CustomerCard, create_customer_by_phone, find_by_code, find_by_phone
from models.till.refunds import preview_refund, purchase_for_refund, refund, sale_without_card
from models.till.stats import PeriodStats, StaffStats, staff_stats
from models.till.team import StaffMember, accept_invite, create_invite, list_staff, rename_staff, revoke_staff

__all__ = [
    "AwaitingCustomer",
    "CheckoutView",
    "Committed",
    "CustomerCard",
    "NotAllowed",
    "PeriodStats",
    "Requoted",
    "StaffActor",
    "StaffMember",
    "StaffStats",
    "accept_invite",
    "answer_phone_confirmation",
    "cancel_checkout",
    "choose_certificate",
    "choose_points",
    "confirm_checkout",
    "create_customer_by_phone",
    "create_invite",
    "find_by_code",
    "find_by_phone",
    "get_checkout",
    "list_staff",
    "max_check",
    "preview_refund",
    "purchase_for_refund",
    "refund",
    "refuse_staff_button",
    "rename_staff",
    "revoke_staff",
    "sale_without_card",
    "staff_stats",
    "start_checkout",
]
