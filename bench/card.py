"""How long one loyalty card takes to render (bot/card.py), next to baselines measured
in the same run so the numbers mean something on any machine.

    python bench/card.py [-n 200]

Baselines:
  * qrcode alone: the QR for the same payload made with the qrcode library and drawn
    with its own default PIL image factory, the way a naive renderer would;
  * blank PNG: encoding an empty image of the card's size with Pillow's defaults.
The target is a p50 of at most 20 ms per card.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from anywhere

import qrcode
from PIL import Image

from bot.card import HEIGHT, WIDTH, CardData, card_data, describe_progress, render_card
from bot.deeplinks import make_link
from bot.i18n import default_i18n

TARGET_MS = 20.0


def sample_cards(n: int) -> list[CardData]:
    t = default_i18n().translator("ru")
    return [
        card_data(t, business_name="Кофейня «Зерно»", customer_name=f"Анна Каренина {i}",
                  tier_name="Серебро", balance=12250 + i, next_tier_name="Золото",
                  progress=(3_000_000 + i, 4_200_000),
                  progress_text=describe_progress(t, "Золото", remaining_kopecks=1_200_000 - i),
                  qr_payload=make_link("zerno_loyalty_bot", "card", f"{i:06d}"), code=f"{i:06d}")
        for i in range(n)
    ]


def bare_qr(data: CardData) -> None:
    qrcode.make(data.qr_payload, error_correction=qrcode.constants.ERROR_CORRECT_M)


def blank_png(_: CardData) -> None:
    Image.new("RGB", (WIDTH, HEIGHT), "white").save(io.BytesIO(), format="PNG")


def timings_ms(fn: Callable[[CardData], object], cards: list[CardData]) -> list[float]:
    fn(cards[0])  # warm-up: fonts, background and palette are built on first use
    result = []
    for data in cards:
        start = time.perf_counter()
        fn(data)
        result.append((time.perf_counter() - start) * 1000)
    return result


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="cards to render (default 200)")
    args = parser.parse_args()
    cards = sample_cards(max(args.n, 1))

    rows = {
        "render_card": timings_ms(render_card, cards),
        "baseline: qrcode alone": timings_ms(bare_qr, cards),
        "baseline: blank PNG": timings_ms(blank_png, cards),
    }
    card_p50 = statistics.median(rows["render_card"])
    size = len(render_card(cards[0]))

    print(f"{len(cards)} cards, {WIDTH}×{HEIGHT}, PNG {size / 1024:.1f} KiB")
    print(f"{'':26}{'p50 ms':>9}{'p99 ms':>9}{'card ÷ this (p50)':>20}")
    for name, values in rows.items():
        p50, p99 = statistics.median(values), percentile(values, 0.99)
        print(f"{name:26}{p50:9.2f}{p99:9.2f}{card_p50 / p50:20.2f}")
    verdict = "OK" if card_p50 <= TARGET_MS else "OVER TARGET"
    print(f"target p50 ≤ {TARGET_MS:.0f} ms: {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
