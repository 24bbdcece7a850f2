"""Automatic certificates and the scheduler's jobs (DOMAIN.md, "Automatic certificates"):
birthday, win-back, expiry, tiers, housekeeping, the monthly report.

The doors (bot, HTTP API, CLI, scheduler) import only what this module exports."""

from models.automation.jobs import (
    MonthlyReportBuilder,
    birthday_certificates,
    business_start,
    housekeeping,
    recalculate_tiers,
    record_run,
    send_monthly_report,
    tiers_need_full_run,
    warn_expiring_points,
    winback_certificates,
    write_off_expired,
)

__all__ = [
    "MonthlyReportBuilder",
    "birthday_certificates",
    "business_start",
    "housekeeping",
    "recalculate_tiers",
    "record_run",
    "send_monthly_report",
    "tiers_need_full_run",
    "warn_expiring_points",
    "winback_certificates",
    "write_off_expired",
]
