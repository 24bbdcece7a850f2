"""once per person: once-only claims keyed by the phone fingerprint, not the customer id

Revision ID: 4d8a1f6c3b27
Revises: 9c2e4a6b8d10
Create Date: 2026-12-04 06:30:00.000000

The once-only rewards were keyed by the customer id, so "delete my data" and registering again
with the same phone made a new customer who could claim them all again. Now they are keyed by
the person (models/kernel/claims.py, `person_key_for`: "p:" + the keyed phone fingerprint, which
survives erasure; docs/RULES.md, "Once per person"). This rewrites what an old database holds,
so the claims made before the upgrade keep blocking after it:

- `reward_claims` of kind referral_first, review, campaign and birthday whose subject is a
  customer id become "p:" + HMAC(key, sha256("loyalty-phone:" + phone)) for every customer that
  still has a phone; an erased customer's claims stay as they are (no phone is left to key
  them by, and an erased customer claims nothing again). Win-back claims stay per customer.
- every customer with a phone and a referrer gets a ("referrer", person key, referrer id) claim:
  the referrer fixed for that phone forever.

The key is obtained as migration 9c2e4a6b8d10 does: from the running command (`loyalty-bot
migrate` loads it first), else PHONE_HASH_KEY / PHONE_HASH_KEY_FILE / the default key file,
created (mode 0600) if missing; it is never written into the database. Downgrade puts the
customer ids back for the customers that still have a phone and drops the referrer claims.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from models.kernel import phone_key

revision = '4d8a1f6c3b27'
down_revision = '9c2e4a6b8d10'
branch_labels = None
depends_on = None

KINDS = ('referral_first', 'review', 'campaign', 'birthday')


def _key(bind: sa.engine.Connection) -> bytes:
    if phone_key.is_configured():
        return phone_key.current_key()
    return phone_key.load_from_environment(str(bind.engine.url), create=True)


def _person(phone: str, key: bytes) -> str:
    """models.kernel.claims.phone_person_key with this key."""
    return 'p:' + phone_key.rekey(phone_key.unkeyed_hash(phone), key)


def upgrade() -> None:
    bind = op.get_bind()
    kinds = sa.bindparam('kinds', expanding=True)
    claims = bind.execute(sa.text(
        'SELECT c.id, p.phone FROM reward_claims c JOIN customers p ON c.subject = CAST(p.id AS VARCHAR(80)) '
        'WHERE c.kind IN :kinds AND p.phone IS NOT NULL').bindparams(kinds), {'kinds': list(KINDS)}).all()
    referred = bind.execute(sa.text(
        'SELECT id, phone, referrer_id FROM customers WHERE phone IS NOT NULL AND referrer_id IS NOT NULL')).all()
    if not claims and not referred:
        return
    key = _key(bind)
    if claims:
        bind.execute(sa.text('UPDATE reward_claims SET subject = :new WHERE id = :id'),
                     [{'id': id_, 'new': _person(phone, key)} for id_, phone in claims])
    if referred:
        bind.execute(sa.text(
            "INSERT INTO reward_claims (kind, subject, period, created_at) "
            "SELECT 'referrer', :subject, :period, COALESCE(registered_at, created_at) FROM customers WHERE id = :id"),
            [{'id': id_, 'subject': _person(phone, key), 'period': str(referrer)} for id_, phone, referrer in referred])


def downgrade() -> None:
    bind = op.get_bind()
    bind.execute(sa.text("DELETE FROM reward_claims WHERE kind = 'referrer'"))
    kinds = sa.bindparam('kinds', expanding=True)
    claims = bind.execute(sa.text(
        "SELECT id, subject FROM reward_claims WHERE kind IN :kinds AND subject LIKE 'p:%'").bindparams(kinds),
        {'kinds': list(KINDS)}).all()
    if claims:
        _person_keys_back(bind, claims)
    bind.execute(sa.text("UPDATE reward_claims SET subject = SUBSTR(subject, 3) WHERE kind IN :kinds "
                         "AND subject LIKE 'c:%'").bindparams(kinds), {'kinds': list(KINDS)})


def _person_keys_back(bind: sa.engine.Connection, claims: list[sa.Row[tuple[int, str]]]) -> None:
    key = _key(bind)
    people = {_person(phone, key): customer_id for customer_id, phone in bind.execute(sa.text(
        'SELECT id, phone FROM customers WHERE phone IS NOT NULL'))}
    back = [{'id': id_, 'new': str(people[subject])} for id_, subject in claims if subject in people]
    if back:  # a person key of a phone no customer holds now stays: it blocks nothing in the old code
        bind.execute(sa.text('UPDATE reward_claims SET subject = :new WHERE id = :id'), back)
