"""Program versions in the database (DOMAIN.md, "The program").

Versions are immutable: changing the program inserts a new version, and every operation
records the version it was computed with.
"""

from __future__ import annotations

import weakref
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.kernel.context import Domain
from models.kernel.errors import InvalidProgram
from models.kernel.tables import Campaign, Customer, ProgramVersion
from models.program.rules import Program, default_text, program_from_document

# Versions never change once written, so a parsed version can be cached per database.
_parsed: weakref.WeakKeyDictionary[Any, dict[int, Program]] = weakref.WeakKeyDictionary()


async def current_version(session: AsyncSession) -> int | None:
    return (await session.execute(select(func.max(ProgramVersion.version)))).scalar()


async def program_at(session: AsyncSession, version: int) -> Program:
    cache = _parsed.setdefault(session.get_bind(), {})
    cached = cache.get(version)
    if cached is not None:
        return cached
    row = await session.get(ProgramVersion, version)
    if row is None:
        raise InvalidProgram(f"program version {version} does not exist")
    program = program_from_document(row.document, f"program version {version}")
    cache[version] = program
    return program


async def current_program(session: AsyncSession) -> tuple[int, Program]:
    version = await current_version(session)
    if version is None:
        raise InvalidProgram("no program has been set; run `loyalty-bot program set FILE`")
    return version, await program_at(session, version)


async def save_program(
    session: AsyncSession,
    program: Program,
    now: datetime,
    created_by: int | None = None,
    comment: str = "",
) -> int:
    """Store `program` as a new version unless it equals the current one; return the version."""
    version = await current_version(session)
    if version is not None:
        current = await program_at(session, version)
        if current == program:
            return version
    new_version = (version or 0) + 1
    session.add(
        ProgramVersion(
            version=new_version,
            document=program.to_document(),
            created_at=now,
            created_by=created_by,
            comment=comment[:200],
        )
    )
    await _create_preset_campaigns(session, program, now)
    if version is not None:
        # Tiers removed from the top: their customers (earned or pinned) are in the new top tier,
        # which is also how every reader already clamps them (Program.tier, recalculate_tier).
        top = len(program.tiers.levels) - 1
        await session.execute(update(Customer).where(Customer.tier_index > top).values(tier_index=top)
                              .execution_options(synchronize_session=False))
        await session.execute(update(Customer).where(Customer.tier_pinned > top).values(tier_pinned=top)
                              .execution_options(synchronize_session=False))
    await session.flush()
    return new_version


async def _create_preset_campaigns(session: AsyncSession, program: Program, now: datetime) -> None:
    if not program.campaigns:
        return
    existing = set(
        (await session.execute(select(Campaign.code).where(
            Campaign.code.in_([c.code for c in program.campaigns])
        ))).scalars()
    )
    for preset in program.campaigns:
        if preset.code in existing:
            continue
        session.add(
            Campaign(
                code=preset.code,
                name=default_text(preset.name),
                partner=preset.partner,
                is_source=preset.points == 0,
                points=preset.points,
                max_redeem_percent=str(preset.max_redeem_percent),
                validity_days=preset.validity_days,
                issue_limit=preset.issue_limit,
                created_at=now,
            )
        )


async def ensure_program(dom: Domain, program: Program, comment: str = "start-up") -> int:
    """Store the configured program if the database has none yet; keep an existing one.

    A program file only seeds an empty database: later changes go through the owner's
    `/program` or `loyalty-bot program set`, so a restart never silently rewrites them.
    """
    async with dom.db.transaction() as session:
        version = await current_version(session)
        if version is not None:
            return version
        return await save_program(session, program, dom.clock.now(), comment=comment)


async def set_program(dom: Domain, program: Program, created_by: int | None, comment: str) -> int:
    async with dom.db.transaction() as session:
        return await save_program(session, program, dom.clock.now(), created_by, comment)


async def program_in_force(dom: Domain) -> tuple[int, Program]:
    """The program in force now and its version (what a screen shows, what a typed amount is
    checked against)."""
    async with dom.db.reading() as session:
        return await current_program(session)
