"""Phones parsed by libphonenumber (models/kernel/phone.py) and the keyed fingerprint kept after
erasure (models/kernel/phone_key.py); issue 21 §2, §3."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from bot.config import SettingsError, configure_phones, load_settings
from models.kernel import phone, phone_key
from models.kernel.errors import InvalidPhone
from models.kernel.phone import normalize_phone
from models.kernel.phone_key import phone_hash
from tests.conftest import TEST_PHONE_HASH_KEY

# --- what is accepted -------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "e164"), [
    ("+7 916 123-45-67", "+79161234567"),
    ("8 (916) 123-45-67", "+79161234567"),
    ("9161234567", "+79161234567"),
    ("7 916 123 45 67", "+79161234567"),
    ("+375 29 123-45-67", "+375291234567"),
    ("8 (495) 123-45-67", "+74951234567"),  # a Moscow landline
    ("8 10 49 30 12345678", "+493012345678"),  # 810: Russia's international prefix
    ("810 375 29 123 45 67", "+375291234567"),
    ("+44 20 7946 0958", "+442079460958"),
    ("+380 50 123 4567", "+380501234567"),
])
def test_accepted(text: str, e164: str) -> None:
    assert normalize_phone(text) == e164


@pytest.mark.parametrize("text", [
    "+70000000000",  # the right length, no such number
    "+12345678",
    "8 800 555-35-35",  # toll-free: a company's line, never a person's
    "+7 800 555 35 35",
    "8 809 555 12 34",  # premium-rate
    "+1 800 555 1234",
    "+1 900 555 1234",
    "+7 916 123",
    "8916123456789",
    "+7 916 123 45 67 ext. 5",
    "+7 ٩١٦ ١٢٣ ٤٥ ٦٧",  # Arabic-Indic digits: libphonenumber would read them
    "8-800-FLOWERS",  # letters as on a keypad, too
    "",
])
def test_refused(text: str) -> None:
    with pytest.raises(InvalidPhone):
        normalize_phone(text)


def test_phone_region_reads_national_numbers() -> None:
    assert not phone.looks_like_phone("8 029 123-45-67")  # in Russia: no such number
    phone.set_region("by")
    assert normalize_phone("8 029 123-45-67") == "+375291234567"
    assert normalize_phone("+7 916 123 45 67") == "+79161234567"  # "+" numbers are read as before


def test_phone_region_setting() -> None:
    configure_phones(load_settings(_env_file=None, phone_region="by"))
    assert phone.current_region() == "BY"
    with pytest.raises(SettingsError) as exc:
        load_settings(_env_file=None, phone_region="XX")
    assert str(exc.value).startswith("PHONE_REGION: unknown country 'XX'") and "\n" not in str(exc.value)


def test_short_phone_hash_key_is_a_settings_error() -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings(_env_file=None, phone_hash_key="short-and-guessable")
    message = str(exc.value)
    assert message.startswith("PHONE_HASH_KEY: must be at least 32 characters") and "guessable" not in message


# --- the fingerprint ----------------------------------------------------------------------------

def test_fingerprint_is_keyed_hmac_of_the_old_hash() -> None:
    e164 = "+79161234567"
    old = hashlib.sha256(("loyalty-phone:" + e164).encode()).hexdigest()
    expected = hmac.new(TEST_PHONE_HASH_KEY.encode(), old.encode(), hashlib.sha256).hexdigest()
    assert phone_hash(e164) == expected and len(expected) == 64


def test_fingerprint_cannot_be_matched_to_a_phone_without_the_key() -> None:
    """The attack of issue 21 §2: hash every candidate phone the old, unkeyed way and look the
    stored fingerprint up. With the key it no longer matches anything, even the right phone."""
    target = "+79161234567"
    stored = phone_hash(target)
    candidates = [f"+7916123{n:04d}" for n in range(10_000)]  # the real phone is among them
    assert target in candidates
    unkeyed = {hashlib.sha256(("loyalty-phone:" + c).encode()).hexdigest() for c in candidates}
    assert stored not in unkeyed
    assert stored not in {hashlib.sha256(c.encode()).hexdigest() for c in candidates}
    # Another key (another café, a guessed key) gives another fingerprint for the same phone.
    phone_key.configure("someone-elses-phone-hash-key-0123456789")
    assert phone_hash(target) != stored
    assert phone_key.erased_key(target) != phone_key.erased_key("+79161234568")
    phone_key.configure(TEST_PHONE_HASH_KEY)
    assert phone_hash(target) == stored


def test_erased_import_key_fits_the_column_and_is_keyed() -> None:
    key = phone_key.erased_key("+79161234567")
    old = "erased:" + phone_key.unkeyed_hash("+79161234567")[:56]
    assert key.startswith("erased:") and len(key) == 63 and key != old
    assert phone_key.rekey_erased(old) == key  # what the migration turns the old value into
