"""Typed conversation data: one `TypedDict` per FSM flow, declared next to the flow's
`StatesGroup`, read and written through a `FlowData` of it so mypy checks every key.

What is stored does not change (the same keys, the same JSON in MemoryStorage, Redis or
wherever the FSM lives): a conversation begun before an upgrade goes on after it. The
TypedDicts say what the handlers write; a reader still treats a value from storage with the
care it took before (`int(...)`, `str(...)`, a default), since old or hand-edited data may differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Generic, TypeVar, cast

from aiogram.fsm.context import FSMContext

D = TypeVar("D", bound=Mapping[str, Any])


class FlowData(Generic[D]):
    """`data = FlowData[ComposeData]()`; then `await data.get(state)`, `await data.update(state, ComposeData(...))`."""

    async def get(self, state: FSMContext) -> D:
        return cast(D, await state.get_data())

    async def update(self, state: FSMContext, data: D) -> None:
        """Merged into what is stored (FSMContext.update_data)."""
        await state.update_data(data)

    async def set(self, state: FSMContext, data: D) -> None:
        """Replaces what is stored (FSMContext.set_data)."""
        await state.set_data(data)
