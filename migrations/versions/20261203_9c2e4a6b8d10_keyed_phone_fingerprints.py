"""keyed phone fingerprints: rekey what erasure keeps with HMAC-SHA256

Revision ID: 9c2e4a6b8d10
Revises: 7f3b9c1d2e4a
Create Date: 2026-12-03 23:00:00.000000

Until now the fingerprint kept after "delete my data" was sha256("loyalty-phone:" + e164),
unsalted: hashing every Russian mobile number finds the phone behind any fingerprint in about a
minute. Now it is HMAC-SHA256(key, that old hex digest) with a key kept outside the database
(models/kernel/phone_key.py, docs/DEPLOYMENT.md "The phone hash key"), so the old values are rewritten
without knowing any phone:

- `reward_claims.subject` that is a 64-hex fingerprint (the "welcome" claims: once per phone
  ever) becomes HMAC(key, subject);
- `customers.imported_key` of an erased imported customer, `erased:` + the first 56 hex of the
  old hash, becomes `erased:` + HMAC(key, those 56 hex)[:56] (what `erased_key` now computes).

The key comes from the running command (`loyalty-bot migrate` loads it first), else from
PHONE_HASH_KEY / PHONE_HASH_KEY_FILE / the default key file, which is created (mode 0600) if
missing. Downgrade is a no-op: the unkeyed values cannot be recomputed from keyed ones (that is
the point), and the old code would simply no longer recognise these fingerprints.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from alembic import op

from models.kernel import phone_key

revision = '9c2e4a6b8d10'
down_revision = '7f3b9c1d2e4a'
branch_labels = None
depends_on = None

_FINGERPRINT = re.compile(r'[0-9a-f]{64}')
_ERASED = re.compile(r'erased:[0-9a-f]{56}')


def _key(bind: sa.engine.Connection) -> bytes:
    if phone_key.is_configured():
        return phone_key.current_key()
    return phone_key.load_from_environment(str(bind.engine.url), create=True)


def upgrade() -> None:
    bind = op.get_bind()
    claims = [(row[0], row[1]) for row in bind.execute(sa.text('SELECT id, subject FROM reward_claims'))
              if _FINGERPRINT.fullmatch(str(row[1] or ''))]
    erased = [(row[0], row[1]) for row in bind.execute(sa.text(
        "SELECT id, imported_key FROM customers WHERE imported_key LIKE 'erased:%'"))
        if _ERASED.fullmatch(str(row[1] or ''))]
    if not claims and not erased:
        return
    key = _key(bind)
    if claims:
        bind.execute(sa.text('UPDATE reward_claims SET subject = :new WHERE id = :id'),
                     [{'id': id_, 'new': phone_key.rekey(old, key)} for id_, old in claims])
    if erased:
        bind.execute(sa.text('UPDATE customers SET imported_key = :new WHERE id = :id'),
                     [{'id': id_, 'new': phone_key.rekey_erased(old, key)} for id_, old in erased])


def downgrade() -> None:
    """Nothing to undo: keyed fingerprints cannot be turned back into unkeyed ones."""
