"""Domain errors. Each carries a stable `code` the doors (bot, API, CLI) translate."""

from __future__ import annotations


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, detail: str = "", **context: object) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        self.context = context


class InvalidAmount(DomainError):
    code = "invalid_amount"


class InvalidPhone(DomainError):
    code = "invalid_phone"


class InvalidDate(DomainError):
    code = "invalid_date"


class NotFound(DomainError):
    code = "not_found"


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class CodeNotFound(NotFound):
    code = "code_not_found"


class CodeExpired(DomainError):
    code = "code_expired"


class CodeUsed(DomainError):
    code = "code_used"


class InsufficientFunds(DomainError):
    code = "insufficient_funds"


class RedeemLimitExceeded(DomainError):
    code = "redeem_limit_exceeded"


class RedeemNotAuthorised(DomainError):
    """Paying with points needs a fresh code or the customer's confirmation."""

    code = "redeem_not_authorised"


class CustomerBlocked(DomainError):
    code = "customer_blocked"


class CustomerErased(DomainError):
    code = "customer_erased"


class AlreadyRegistered(DomainError):
    code = "already_registered"


class PhoneTaken(DomainError):
    code = "phone_taken"


class SelfReferral(DomainError):
    code = "self_referral"


class RefundNotAllowed(DomainError):
    code = "refund_not_allowed"


class RefundWindowClosed(RefundNotAllowed):
    code = "refund_window_closed"


class RefundTooLarge(RefundNotAllowed):
    code = "refund_too_large"


class CertificateNotApplicable(DomainError):
    code = "certificate_not_applicable"


class OwnAccount(DomainError):
    """Staff never run operations on their own customer account."""

    code = "own_account"


class CodeLimitReached(DomainError):
    """Too many new customer codes in a short time (docs/RULES.md, "The customer code");
    `retry_minutes` says when the next one can be issued."""

    code = "code_limit_reached"

    def __init__(self, retry_minutes: int) -> None:
        super().__init__(f"too many new codes; retry in {retry_minutes} minutes")
        self.retry_minutes = retry_minutes


class NoFreeCode(DomainError):
    """No 6-digit number is free to be given out right now (the code space is full)."""

    code = "no_free_code"


class CampaignUnavailable(DomainError):
    code = "campaign_unavailable"


class PromoUnavailable(DomainError):
    """A promo code gives nothing; `detail` is the reason (models/campaigns/promo.py, REASONS)."""

    code = "promo_unavailable"


class InvalidProgram(DomainError):
    code = "invalid_program"


class SettingRejected(InvalidProgram):
    """One setting typed in the bot's /program is not a value of its kind; `kind` says which
    answer was expected ("whole", "percent", "yes_no", "digits") so the bot can say it in the
    owner's words; a program that does not validate with the value is `kind` "program"."""

    code = "setting_rejected"

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(detail or kind)
        self.kind = kind
