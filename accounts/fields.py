"""Encrypted model fields for the credential vault.

`EncryptedTextField` stores text as a Fernet token made by `cryptography`'s `MultiFernet`, with the
keys from ``settings.FIELD_ENCRYPTION_KEYS`` (newest first). Encryption always uses the newest key;
decryption tries every key. A value that no configured key can decrypt raises
`DecryptionError`: the field never hands back ciphertext as if it were the secret.

Source: pyca/cryptography, docs/fernet.rst (Fernet, MultiFernet, MultiFernet.rotate).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models
from django.views.decorators.debug import sensitive_variables


class DecryptionError(Exception):
    """Stored ciphertext could not be decrypted with any key in FIELD_ENCRYPTION_KEYS."""


@lru_cache(maxsize=8)
def _fernets(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty.")
    try:
        fernets = [Fernet(k.strip().encode()) for k in keys]
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS holds a value that is not a Fernet key (32 url-safe base64 bytes)."
        ) from exc
    return MultiFernet(fernets), fernets[0]


def vault() -> MultiFernet:
    """The MultiFernet for the configured keys (newest first)."""
    return _fernets(tuple(settings.FIELD_ENCRYPTION_KEYS))[0]


def primary_fernet() -> Fernet:
    """The Fernet of the newest key only; used to tell whether a token needs re-encryption."""
    return _fernets(tuple(settings.FIELD_ENCRYPTION_KEYS))[1]


@sensitive_variables()
def encrypt(plaintext: str) -> str:
    """Encrypt `plaintext` under the newest key and return the token as ASCII text."""
    return vault().encrypt(plaintext.encode("utf-8")).decode("ascii")


@sensitive_variables()
def decrypt(token: str) -> str:
    """Decrypt a token made by `encrypt`.

    Raises:
        DecryptionError: no configured key decrypts it (wrong key, or not a Fernet token).
    """
    try:
        return vault().decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError, ValueError) as exc:
        raise DecryptionError(
            "A stored secret cannot be decrypted with FIELD_ENCRYPTION_KEYS. Is the key that "
            "encrypted it missing from the list?"
        ) from exc


def needs_rotation(token: str) -> bool:
    """True when `token` is not decryptable by the newest key alone (so rotation must rewrite it)."""
    try:
        primary_fernet().decrypt(token.encode("ascii"))
    except InvalidToken:
        return True
    return False


@sensitive_variables()
def rotate_token(token: str) -> str:
    """Re-encrypt `token` under the newest key, keeping its timestamp (MultiFernet.rotate).

    Raises:
        DecryptionError: no configured key decrypts it.
    """
    try:
        return vault().rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise DecryptionError("A stored secret cannot be decrypted for rotation.") from exc


class EncryptedTextField(models.TextField):
    """A TextField whose database column holds a Fernet token, never the plaintext.

    The Python value is the plaintext ``str`` (or ``None``). Only the ``isnull`` lookup is
    allowed: ciphertexts are randomised, so equality or ``contains`` could never match and would
    silently return nothing.

    Raises:
        DecryptionError: when a row is loaded whose token no configured key can decrypt.
        FieldError: when a query uses any lookup other than ``isnull``.
    """

    description = "Text encrypted with MultiFernet"

    @sensitive_variables("value")
    def get_prep_value(self, value: Any) -> str | None:
        value = super().get_prep_value(value)
        if value is None:
            return None
        return encrypt(str(value))

    @sensitive_variables("value", "plaintext")
    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value is None:
            return None
        plaintext = decrypt(value)
        from accounts.logging import register_secret

        register_secret(plaintext)
        return plaintext

    def get_lookup(self, lookup_name: str):
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted: only the 'isnull' lookup is allowed, "
                f"not '{lookup_name}'."
            )
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name: str):
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted: transforms are not allowed."
        )


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    """Every (model, field) pair in the project whose field is an EncryptedTextField."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model, field))
    return found
