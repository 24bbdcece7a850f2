"""The audit log: every staff and owner action (DOMAIN.md, "Roles")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models.tables import AuditEntry


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
