"""An idempotent replay must be the same request (docs/RULES.md, "Ids and replays").

A key (`quote:<id>`, the partner API's nonce, a refund button's key...) that was already used
returns the first result only when the request is the one that used it. A different request
under a used key is refused with `ReplayMismatch` — answering it with another operation's
receipt would tell a cashier "recorded" for a check that never was.

Purchases store a digest of the request as the caller gave it (`request_digest`); other
operations, and purchases written before the digest existed, are compared field by field.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from models.kernel.errors import DomainError
from models.kernel.tables import Operation, OperationKind


class ReplayMismatch(DomainError):
    """The key was used by another request (another customer, amount or points)."""

    code = "replay_mismatch"


def request_digest(kind: str, **fields: Any) -> str:
    """A stable digest of what a request asked for (64 hex characters)."""
    canonical = json.dumps({"kind": kind, **fields}, sort_keys=True, separators=(",", ":"), default=str,
                           ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def check_replay(found: Operation, kind: OperationKind, *, digest: str | None = None,
                 **expected: Any) -> None:
    """Raise `ReplayMismatch` unless `found` was written by this very request.

    `expected` names Operation columns and the values this request would write; None means
    "not specified by the request" and is not compared. A stored digest decides alone."""
    if found.kind is not kind:
        raise ReplayMismatch(f"the key belongs to a {found.kind.value} operation")
    if digest is not None and found.request_hash is not None:
        if found.request_hash != digest:
            raise ReplayMismatch("the key was used by a different request")
        return
    for column, value in expected.items():
        if value is not None and getattr(found, column) != value:
            raise ReplayMismatch(f"the key was used with another {column}")
