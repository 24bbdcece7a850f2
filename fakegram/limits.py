"""Fault injection (``fail_next``, ``slow``) and Telegram-like flood limits."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import MIGRATED, ApiError

__all__ = ["FaultRule", "RateLimiter", "SlowRule"]


def _method_matches(pattern: str, method: str) -> bool:
    # "*" targets every method except getUpdates, so faults on "everything" do not
    # starve the polling loop (use "getUpdates" explicitly to break polling).
    if pattern == "*":
        return method.lower() != "getupdates"
    return pattern.lower() == method.lower()


@dataclass
class FaultRule:
    """Answer the next ``remaining`` matching calls with an error."""

    method: str
    status: int
    description: str | None
    retry_after: int | None
    chat_id: int | None
    remaining: int | None  # None = forever
    hits: int = 0
    migrate_to_chat_id: int | None = None  # 400 "group chat was upgraded" with this id
    # Only while this answers True (e.g. an outage of 10 minutes on the test's clock).
    when: Callable[[], bool] | None = None

    def matches(self, method: str, chat_id: Any) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if self.when is not None and not self.when():
            return False
        if not _method_matches(self.method, method):
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)

    def fire(self) -> ApiError:
        self.hits += 1
        if self.remaining is not None:
            self.remaining -= 1
        params: dict[str, Any] = {}
        if self.status == 429:
            params["retry_after"] = self.retry_after if self.retry_after is not None else 3
        if self.migrate_to_chat_id is not None:
            params["migrate_to_chat_id"] = self.migrate_to_chat_id
            return ApiError(self.status, self.description or MIGRATED, params)
        return ApiError(self.status, self.description, params or None)

    @property
    def exhausted(self) -> bool:
        return self.remaining is not None and self.remaining <= 0


@dataclass
class SlowRule:
    """Delay answers of matching calls by ``seconds``."""

    method: str
    seconds: float
    chat_id: int | None = None
    remaining: int | None = None

    def matches(self, method: str, chat_id: Any) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        if not _method_matches(self.method, method):
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)


@dataclass
class RateLimiter:
    """Sliding-window flood control, like Telegram's (but strict and deterministic).

    A send is refused with 429 when accepting it would put more than
    ``per_chat_per_second`` sends to one chat in any 1 s window, more than
    ``global_per_second`` sends overall in 1 s, or more than ``group_per_minute``
    sends to one group (negative chat id) in 60 s. ``retry_after`` is the whole number
    of seconds until the oldest send of the violated window leaves it (at least 1).
    """

    per_chat_per_second: float | None = 1
    global_per_second: float | None = 30
    group_per_minute: float | None = 20
    _global: deque[float] = field(default_factory=deque)
    _per_chat: dict[int, deque[float]] = field(default_factory=dict)
    _group: dict[int, deque[float]] = field(default_factory=dict)

    @staticmethod
    def _wait(times: deque[float], now: float, window: float, limit: float | None) -> float:
        if limit is None:
            return 0.0
        while times and now - times[0] >= window:
            times.popleft()
        if len(times) < limit:
            return 0.0
        # The send that must expire before a new one fits in the window.
        return times[len(times) - int(limit)] + window - now

    def check(self, chat_id: int, now: float) -> int | None:
        """``None`` if a send may go now, else the ``retry_after`` to answer with."""
        waits = [
            self._wait(self._global, now, 1.0, self.global_per_second),
            self._wait(self._per_chat.setdefault(chat_id, deque()), now, 1.0,
                       self.per_chat_per_second),
        ]
        if chat_id < 0:
            waits.append(
                self._wait(self._group.setdefault(chat_id, deque()), now, 60.0,
                           self.group_per_minute)
            )
        worst = max(waits)
        if worst <= 0:
            return None
        return max(1, math.ceil(worst))

    def record(self, chat_id: int, now: float) -> None:
        self._global.append(now)
        self._per_chat.setdefault(chat_id, deque()).append(now)
        if chat_id < 0:
            self._group.setdefault(chat_id, deque()).append(now)

    def forget(self, chat_id: int, now: float) -> None:
        """Undo :meth:`record` for a send that failed validation afterwards."""
        for times in (self._global, self._per_chat.get(chat_id), self._group.get(chat_id)):
            if times and times[-1] == now:
                times.pop()
