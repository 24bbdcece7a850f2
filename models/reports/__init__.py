"""Result figures (DOMAIN.md, "Result figures"): the report, RFM, and the simulator that makes
businesses to report on.

The doors (bot, HTTP API, CLI, scheduler) import only what this module exports."""

from models.reports.report import REPORT_YEARS, Report, build_report, monthly_report_payload
from models.reports.rfm import NONE, SEGMENTS, segment_list
from models.reports.simulator import SimulationConfig, simulate

__all__ = [
    "NONE",
    "REPORT_YEARS",
    "SEGMENTS",
    "Report",
    "SimulationConfig",
    "build_report",
    "monthly_report_payload",
    "segment_list",
    "simulate",
]
