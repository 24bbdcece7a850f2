"""The program (DOMAIN.md, "The program", "Tiers"): its rules as data, its stored versions,
and tiers.

The doors (bot, HTTP API, CLI, scheduler) import only what this module exports."""

from models.program.rules import (
    LOCAL_TEXT_ERRORS,
    Program,
    ThresholdBasis,
    default_text,
    load_program_file,
    parse_program,
    program_diff,
    program_from_document,
    text_in,
)
from models.program.store import (
    current_program,
    current_version,
    ensure_program,
    program_in_force,
    set_program,
)

__all__ = [
    "LOCAL_TEXT_ERRORS",
    "Program",
    "ThresholdBasis",
    "current_program",
    "current_version",
    "default_text",
    "ensure_program",
    "load_program_file",
    "parse_program",
    "program_diff",
    "program_from_document",
    "program_in_force",
    "set_program",
    "text_in",
]
