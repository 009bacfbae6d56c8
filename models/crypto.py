"""Personal data encrypted at rest (PIPL art. 51): Fernet under INNOBRIDGE_SECRET_KEY.

The key lives in one holder, `KEYRING`, set when the database is opened (`open_database`)
and when the bot starts (bot/app.py); nothing is read from the environment here. Without a
key, values are stored as they are. With a key, a value is stored as `fernet:` followed by
the Fernet token; a stored value without that prefix (written before the key was set) is
read as plain text and encrypted the next time its row is saved.

Fernet tokens carry a random IV: an encrypted column can be read and written, not searched
(`filter(phone=...)` finds nothing). Nothing searches phones.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from tortoise import fields
from tortoise.models import Model

PREFIX = "fernet:"
MIN_SECRET_BYTES = 32
# Room for a Fernet token of a 16-byte E.164 number (120 characters) and the prefix.
ENCRYPTED_MAX_LENGTH = 255
_HKDF_INFO = b"innobridge personal data v1"


class SecretKeyError(RuntimeError):
    """An encrypted value cannot be read: INNOBRIDGE_SECRET_KEY is missing or not the one
    it was written with."""


def fernet_for(secret: str) -> Fernet:
    """The cipher of a secret: a Fernet key as is, any other secret of 32+ bytes through HKDF.

    Raises ValueError when the secret is too short to be a key.
    """
    raw = secret.strip().encode("utf-8")
    try:
        return Fernet(raw)
    except (ValueError, binascii.Error):
        pass
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(
            f"at least {MIN_SECRET_BYTES} bytes, or a Fernet key "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key())')"
        )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(raw)
    return Fernet(base64.urlsafe_b64encode(derived))


class Keyring:
    """The cipher in use in this process, or none (values stay plain)."""

    def __init__(self) -> None:
        self._fernet: Fernet | None = None

    def use(self, secret: str | None) -> None:
        """Encrypt from now on with this secret; None: store plain (and read plain only)."""
        self._fernet = fernet_for(secret) if secret else None

    @property
    def active(self) -> bool:
        """Whether values are being encrypted."""
        return self._fernet is not None

    def encrypt(self, value: str) -> str:
        """The stored form of a value: encrypted when a key is set, else unchanged."""
        if self._fernet is None or not value or is_encrypted(value):
            return value
        return PREFIX + self._fernet.encrypt(value.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The value behind a stored form; plain values (no prefix) are returned as they are."""
        if not is_encrypted(stored):
            return stored
        if self._fernet is None:
            raise SecretKeyError("personal data is encrypted: set INNOBRIDGE_SECRET_KEY")
        try:
            return self._fernet.decrypt(stored.removeprefix(PREFIX).encode("ascii")).decode()
        except InvalidToken:
            raise SecretKeyError(
                "personal data was encrypted with another INNOBRIDGE_SECRET_KEY"
            ) from None


def is_encrypted(stored: str | None) -> bool:
    """Whether a stored value is a ciphertext of this module."""
    return bool(stored) and str(stored).startswith(PREFIX)


KEYRING = Keyring()


class EncryptedCharField(fields.CharField):
    """A CharField stored encrypted when the keyring has a key (see the module docstring)."""

    def __init__(self, max_length: int = ENCRYPTED_MAX_LENGTH, **kwargs: Any) -> None:
        super().__init__(max_length=max_length, **kwargs)

    def to_db_value(self, value: Any, instance: type[Model] | Model) -> Any:
        """Validate the plain value, then encrypt it."""
        plain = super().to_db_value(value, instance)
        return KEYRING.encrypt(plain) if isinstance(plain, str) else plain

    def to_python_value(self, value: Any) -> Any:
        """Decrypt what the database holds (plain values pass through)."""
        value = super().to_python_value(value)
        return KEYRING.decrypt(value) if isinstance(value, str) else value
