"""System checks for the credential vault."""

from __future__ import annotations

from django.core.checks import Error, register
from django.db import DatabaseError, connections

from accounts.fields import DecryptionError, decrypt, encrypted_fields, vault


@register()
def check_field_encryption_keys(app_configs=None, **kwargs):
    """FIELD_ENCRYPTION_KEYS are valid Fernet keys and decrypt every stored secret.

    Fails loudly (an Error, so commands refuse to run) when a stored secret cannot be decrypted:
    a key was removed before `rotate_encryption_keys` ran, or the keys belong to another install.
    A database that is not migrated yet is skipped.
    """
    errors = []
    try:
        vault()
    except Exception as exc:
        return [
            Error(
                str(exc),
                id="accounts.E001",
                hint="Set FIELD_ENCRYPTION_KEYS to Fernet keys, newest first.",
            )
        ]
    for model, field in encrypted_fields():
        table = model._meta.db_table
        conn = connections[model.objects.db]
        try:
            with conn.cursor() as cursor:
                cursor.execute(
                    f"SELECT {conn.ops.quote_name(field.column)} FROM {conn.ops.quote_name(table)} "  # noqa: S608
                    f"WHERE {conn.ops.quote_name(field.column)} IS NOT NULL"
                )
                rows = cursor.fetchall()
        except DatabaseError:
            continue  # table not created yet (before migrate)
        bad = 0
        for (token,) in rows:
            try:
                decrypt(token)
            except DecryptionError:
                bad += 1
        if bad:
            errors.append(
                Error(
                    f"{bad} stored value(s) in {table}.{field.column} cannot be decrypted with FIELD_ENCRYPTION_KEYS.",
                    id="accounts.E002",
                    hint="Put the key that encrypted them back into FIELD_ENCRYPTION_KEYS (after the newest), "
                    "run `manage.py rotate_encryption_keys`, and only then remove the old key.",
                )
            )
    return errors
