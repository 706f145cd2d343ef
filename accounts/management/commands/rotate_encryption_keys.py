"""Re-encrypt every encrypted column under the newest FIELD_ENCRYPTION_KEYS key."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import connections, transaction

from accounts.fields import DecryptionError, encrypted_fields, needs_rotation, rotate_token


class Command(BaseCommand):
    help = (
        "Re-encrypt every EncryptedTextField value under the newest key in FIELD_ENCRYPTION_KEYS, in "
        "batches. Idempotent: values already under the newest key are left alone. Afterwards the old "
        "keys can be removed from FIELD_ENCRYPTION_KEYS."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size: int, **options):
        total_changed = 0
        for model, field in encrypted_fields():
            conn = connections[model.objects.db]
            qn = conn.ops.quote_name
            table, column, pk = (
                qn(model._meta.db_table),
                qn(field.column),
                qn(model._meta.pk.column),
            )
            changed = 0
            last_pk = None
            while True:
                with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
                    where = f"{column} IS NOT NULL" + ("" if last_pk is None else f" AND {pk} > %s")
                    params = [] if last_pk is None else [last_pk]
                    lock = " FOR UPDATE" if conn.features.has_select_for_update else ""
                    cursor.execute(
                        f"SELECT {pk}, {column} FROM {table} WHERE {where} ORDER BY {pk} LIMIT %s{lock}",  # noqa: S608
                        [*params, batch_size],
                    )
                    rows = cursor.fetchall()
                    if not rows:
                        break
                    for row_pk, token in rows:
                        if not needs_rotation(token):
                            continue
                        try:
                            new_token = rotate_token(token)
                        except DecryptionError as exc:
                            raise CommandError(
                                f"{model._meta.label}.{field.name} pk={row_pk}: no configured key decrypts it. "
                                "Add the key that encrypted it to FIELD_ENCRYPTION_KEYS and run again."
                            ) from exc
                        cursor.execute(
                            f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                            [new_token, row_pk],
                        )
                        changed += 1
                    last_pk = rows[-1][0]
            self.stdout.write(f"{model._meta.label}.{field.name}: {changed} row(s) re-encrypted")
            total_changed += changed
        self.stdout.write(self.style.SUCCESS(f"Re-encrypted {total_changed} value(s) in total."))
