"""The customer's side of the bot (issue 3): registration, the card and the menu,
ratings and reviews, settings.

Sub-routers, in the order they see an update: registration (/start and the registration
steps, whose catch-alls answer anything sent mid-registration), reviews and settings
(their own conversation steps), then the menu screens. Whatever none of them handles
falls through to handlers/fallback.py.
"""

from __future__ import annotations

import importlib

from aiogram import Router

router = Router(name="customer")

for _name in ("customer_registration", "customer_reviews", "customer_settings", "customer_menu"):
    try:
        _module = importlib.import_module(f"handlers.{_name}")
    except ModuleNotFoundError as exc:  # a sub-area not written yet
        if exc.name != f"handlers.{_name}":
            raise
        continue
    router.include_router(_module.router)
