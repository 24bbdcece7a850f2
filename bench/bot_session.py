"""What a Bot API call costs when pydantic has dropped aiogram's response model.

    python bench/bot_session.py [--calls 300] [--rounds 5]

aiogram validates each answer with `Response[<return type>]`; pydantic keeps parametrised
generics in a weak-value cache, so a garbage collection between two calls makes the second
rebuild the schema (bot/telegram_session.py). Each round sends `--calls` messages to
fakegram through two bots in the same run, alternating, with a `gc.collect()` before every
call (what the collector does on its own every few hundred allocations on a busy bot):

  * aiogram:  aiogram's own `AiohttpSession` (the former session);
  * held:     bot/telegram_session.py's `BotSession` (the design now).

Prints the median per-call time of each and the ratio to the held session (the baseline
measured in the same run; the machine is shared, only figures of one run compare).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402

from bot import telegram_session  # noqa: E402
from bot.telegram_session import BotSession  # noqa: E402
from fakegram import FakeTelegram  # noqa: E402

TOKEN = "123456:bench-session"


async def per_call_ms(bot: Bot, chat_id: int, calls: int) -> float:
    total = 0.0
    for i in range(calls):
        gc.collect()
        started = time.perf_counter()
        await bot.send_message(chat_id, f"message {i}")
        total += time.perf_counter() - started
    return total / calls * 1000


async def main(calls: int, rounds: int) -> None:
    async with FakeTelegram(token=TOKEN) as tg:
        user = tg.user()
        server = TelegramAPIServer.from_base(tg.base_url)
        bots = {
            "aiogram": Bot(TOKEN, session=AiohttpSession(api=server)),
            "held": Bot(TOKEN, session=BotSession(api=server)),
        }
        results: dict[str, list[float]] = {name: [] for name in bots}
        try:
            for bot in bots.values():  # warm up connections and imports
                await per_call_ms(bot, user.id, 10)
            for _ in range(rounds):
                for name, bot in bots.items():
                    # The held models are process-wide: drop them so that aiogram's own
                    # session meets pydantic's weak cache alone (the held one rebuilds once).
                    telegram_session._response_models.clear()
                    results[name].append(await per_call_ms(bot, user.id, calls))
        finally:
            for bot in bots.values():
                await bot.session.close()
    base = statistics.median(results["held"])
    print(f"{calls} sendMessage calls x {rounds} rounds, gc.collect() before each call")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"  {name:8s} {median:7.3f} ms/call  {median / base:5.2f}x held")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.calls, args.rounds))
