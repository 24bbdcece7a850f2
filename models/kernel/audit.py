"""The audit log: every staff and owner action (DOMAIN.md, "Roles")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.kernel.context import Domain
from models.kernel.tables import AuditEntry


def record(
    session: AsyncSession,
    now: datetime,
    action: str,
    *,
    actor_telegram_id: int | None,
    actor_role: str,
    target: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditEntry(
            created_at=now,
            actor_telegram_id=actor_telegram_id,
            actor_role=actor_role,
            action=action,
            target=target,
            details=details or {},
        )
    )


async def record_alone(dom: Domain, action: str, *, actor_telegram_id: int | None, actor_role: str,
                       target: str | None = None, **details: Any) -> None:
    """An entry that is the whole use case (a refused button, a report sent): its own transaction.
    An action that writes anything else records its entry with `record`, in its own transaction."""
    async with dom.db.transaction() as session:
        record(session, dom.clock.now(), action, actor_telegram_id=actor_telegram_id, actor_role=actor_role,
               target=target, details=details)
