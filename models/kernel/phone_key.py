"""The keyed phone fingerprint kept after erasure (docs/RULES.md, "What is kept after erasure").

After "delete my data" the database keeps no phone, only a fingerprint of it, so that welcome
points stay once per phone *ever* (`reward_claims`, kind "welcome") and a re-import of an old
customer base does not bring an erased customer back (`customers.imported_key`).

A plain hash of a phone number is no protection: there are only about 10^10 Russian mobile
numbers, and hashing all of them takes a minute on one machine. So the fingerprint is keyed:

    phone_hash(e164) = HMAC-SHA256(key, sha256("loyalty-phone:" + e164).hexdigest())

The inner unkeyed hash is what the database held before the key existed; keying *it* lets the
migration rewrite old fingerprints without knowing any phone (`rekey`). The key is never stored
in the database: it comes from PHONE_HASH_KEY or a key file (bot/config.py, `phone_key_path`),
and is set here once at start (`configure`). Without the key, a fingerprint cannot be matched to
a phone; with a different key the same phone gives a different fingerprint.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

MIN_KEY_LENGTH = 32
KEY_ENV = "PHONE_HASH_KEY"
KEY_FILE_ENV = "PHONE_HASH_KEY_FILE"
KEY_FILE_SUFFIX = ".phone-hash.key"
DEFAULT_KEY_FILE = "phone-hash.key"

ERASED_PREFIX = "erased:"
ERASED_LENGTH = 56  # "erased:" + 56 hex = 63 characters, inside customers.imported_key (64)


class PhoneKeyError(Exception):
    """One line for the operator: the phone hash key is missing or unusable."""


_key: bytes | None = None


def configure(key: str | bytes) -> None:
    """Set the key used by `phone_hash` (once at start, and by the tests)."""
    global _key
    raw = key.encode() if isinstance(key, str) else key
    if len(raw) < MIN_KEY_LENGTH:
        raise PhoneKeyError(f"the phone hash key must be at least {MIN_KEY_LENGTH} characters")
    _key = raw


def is_configured() -> bool:
    return _key is not None


def current_key() -> bytes:
    if _key is None:
        raise PhoneKeyError("the phone hash key is not loaded (PHONE_HASH_KEY or its key file)")
    return _key


def unkeyed_hash(e164: str) -> str:
    """The fingerprint as stored before the key existed; only ever an input to `rekey`."""
    return hashlib.sha256(("loyalty-phone:" + e164).encode()).hexdigest()


def rekey(old_hex: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 of a stored unkeyed fingerprint: the one function every fingerprint goes through."""
    return hmac.new(key if key is not None else current_key(), old_hex.encode(), hashlib.sha256).hexdigest()


def phone_hash(e164: str) -> str:
    """The keyed fingerprint of an E.164 phone (64 hex characters)."""
    return rekey(unkeyed_hash(e164))


def erased_key(e164: str) -> str:
    """What an erased imported customer keeps as `imported_key` instead of `imp:<phone>`."""
    return ERASED_PREFIX + rekey(unkeyed_hash(e164)[:ERASED_LENGTH])[:ERASED_LENGTH]


def rekey_erased(old: str, key: bytes | None = None) -> str:
    """An old `erased:<56 hex of the unkeyed hash>` as `erased_key` makes it now."""
    return ERASED_PREFIX + rekey(old.removeprefix(ERASED_PREFIX), key)[:ERASED_LENGTH]


# --- Where the key comes from ------------------------------------------------------------------

def default_key_path(database_url: str) -> Path:
    """Next to the SQLite file (`loyalty.db.phone-hash.key`); `phone-hash.key` in the working
    directory for PostgreSQL (or an in-memory SQLite)."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + KEY_FILE_SUFFIX)
    return Path(DEFAULT_KEY_FILE)


def load_key(database_url: str, *, key: str | None = None, key_file: Path | None = None,
             create: bool = False) -> bytes:
    """The key from `key` (PHONE_HASH_KEY), else from the key file. With `create` (migrate, run,
    the sandbox) a missing file is generated with `secrets` and written with mode 0600."""
    if key:
        if len(key) < MIN_KEY_LENGTH:
            raise PhoneKeyError(f"PHONE_HASH_KEY: must be at least {MIN_KEY_LENGTH} characters")
        return key.encode()
    path = key_file or default_key_path(database_url)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        if not create:
            raise PhoneKeyError(
                f"PHONE_HASH_KEY: no phone hash key: {path} does not exist "
                "(run `loyalty-bot migrate` to create it, or set PHONE_HASH_KEY)") from None
        return _create(path)
    except OSError as exc:
        raise PhoneKeyError(f"PHONE_HASH_KEY_FILE: cannot read {path}: {exc.strerror or exc}") from None
    if len(text) < MIN_KEY_LENGTH:
        raise PhoneKeyError(f"PHONE_HASH_KEY_FILE: {path} holds fewer than {MIN_KEY_LENGTH} characters")
    return text.encode()


def _create(path: Path) -> bytes:
    text = secrets.token_urlsafe(48)  # 64 characters, 384 random bits
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return load_key("", key_file=path)
    except OSError as exc:
        raise PhoneKeyError(f"PHONE_HASH_KEY_FILE: cannot create {path}: {exc.strerror or exc}") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text + "\n")
    os.chmod(path, 0o600)  # whatever the umask
    return text.encode()


def load_from_environment(database_url: str, *, create: bool) -> bytes:
    """The same rules for code that has no Settings (the Alembic migration)."""
    file = os.environ.get(KEY_FILE_ENV)
    return load_key(database_url, key=os.environ.get(KEY_ENV) or None,
                    key_file=Path(file) if file else None, create=create)


def configure_throwaway() -> None:
    """For benches and simulations of made-up customers: a random key for this process only,
    unless a key is already loaded. Never for a database real customers use."""
    if _key is None:
        configure(secrets.token_urlsafe(48))
