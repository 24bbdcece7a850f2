"""The customer's side of the bot (issue 3): registration, the card and the menu,
ratings and reviews, settings.

Sub-routers, in the order they see an update: registration (/start and the registration
steps, whose catch-alls answer anything sent mid-registration), reviews and settings
(their own conversation steps), then the menu screens. Whatever none of them handles
falls through to handlers/fallback.py.
"""

from __future__ import annotations

from aiogram import Router

from handlers import customer_menu, customer_promo, customer_registration, customer_reviews, customer_settings

router = Router(name="customer")
router.include_routers(customer_registration.router, customer_reviews.router, customer_settings.router,
                       customer_promo.router, customer_menu.router)
