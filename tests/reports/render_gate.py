"""A gate in front of the chart renderer, for tests/reports/test_report_loop.py.

`gated(render, folder)` wraps a renderer: it touches `folder/started`, then waits (blocking,
as CPU-bound rendering would) until `folder/open` exists, and only then renders; after
GATE_SECONDS it gives up, touches `folder/timed-out` and raises. `install(folder)` is a worker
process initializer that puts the gate in front of `bot.report_render.render_charts` there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

GATE_SECONDS = 30.0  # a safety limit, not a measurement: the test opens the gate long before


def gated(render: Callable[..., Any], folder: str) -> Callable[..., Any]:
    gate = Path(folder)

    def wait_then_render(*args: Any, **kwargs: Any) -> Any:
        (gate / "started").touch()
        deadline = time.monotonic() + GATE_SECONDS
        while not (gate / "open").exists():
            if time.monotonic() > deadline:
                (gate / "timed-out").touch()
                raise RuntimeError("the render gate was never opened")
            time.sleep(0.01)
        return render(*args, **kwargs)

    return wait_then_render


def install(folder: str) -> None:
    from bot import report_render

    report_render.warm_up()
    report_render.render_charts = gated(report_render.render_charts, folder)  # type: ignore[assignment]
