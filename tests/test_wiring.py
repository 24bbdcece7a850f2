"""How the pieces are put together (docs/ARCHITECTURE.md, issue 15): typed services, routers
imported and attachable to a fresh Dispatcher, one definition of each shared helper."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path

from aiogram.fsm.storage.memory import MemoryStorage

from bot.app import area_routers, build_dispatcher
from bot.config import Settings
from bot.i18n import default_i18n
from bot.services import Services
from models.kernel.context import Domain

ROOT = Path(__file__).resolve().parents[1]


def test_services_carry_typed_workers_not_a_bag_of_strings() -> None:
    names = {f.name for f in fields(Services)}
    assert {"sender", "job_runner", "broadcast_progress"} <= names
    assert "extras" not in names


async def test_a_second_dispatcher_in_one_process_gets_every_router(dom: Domain) -> None:
    """A test, or a sandbox reset, builds another Dispatcher: no helper has to free the routers."""
    services = Services(settings=Settings(_env_file=None), dom=dom)  # type: ignore[call-arg]
    first = build_dispatcher(services, default_i18n(), MemoryStorage())
    second = build_dispatcher(services, default_i18n(), MemoryStorage())
    assert second.sub_routers == list(area_routers())
    assert first.sub_routers == []
    assert all(router.parent_router is second for router in area_routers())


def test_one_definition_of_each_shared_helper() -> None:
    """Two `IsOwner`, two `esc`, two `enqueue_many`, two `previous_month` used to drift apart."""
    wanted = {"IsOwner", "esc", "enqueue_many", "previous_month", "Outgoing", "BroadcastProgress"}
    found: dict[str, list[str]] = {name: [] for name in wanted}
    for folder in ("models", "handlers", "bot", "scheduler"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.parse(path.read_text(encoding="utf-8")).body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in wanted:
                    found[node.name].append(str(path.relative_to(ROOT)))
    assert {name: len(where) for name, where in found.items()} == dict.fromkeys(wanted, 1), found
