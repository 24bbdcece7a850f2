"""Subcommands of `loyalty-bot`, one module per area (see bot/cli.py)."""
