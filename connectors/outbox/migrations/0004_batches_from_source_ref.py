"""Give every existing write a `WriteBatch` (one per former ``source_ref``), then drop
``source_ref``: the batch is the real relation to what asked for the write."""

from django.db import migrations, models
import django.db.models.deletion

KINDS = (
    ("draft:", "billing.draft"),
    ("ticket:", "billing.ticket_action"),
    ("dispatch.job:", "dispatch.job"),
    ("fieldcamp.integration:", "fieldcamp.integration"),
)
PERSON = ("rejected", "needs_review")


def _state(pairs):
    states = [s for s, _ in pairs]
    if states and all(s == "confirmed" for s in states):
        return "done", ""
    if any(s in PERSON or s == "cancelled" for s in states):
        return "attention", next((m for s, m in pairs if s in PERSON and m), "")
    return "open", ""


def forwards(apps, schema_editor):
    VendorWrite = apps.get_model("outbox", "VendorWrite")
    WriteBatch = apps.get_model("outbox", "WriteBatch")
    groups: dict = {}
    for w in VendorWrite.objects.order_by("id"):
        ref = w.source_ref or f"legacy:{w.pk}"
        groups.setdefault((w.tenant_id, ref), []).append(w)
    for (tenant_id, ref), writes in groups.items():
        kind = next((k for prefix, k in KINDS if ref.startswith(prefix)), "legacy")
        first = writes[0]
        subject = {}
        if "ticket_id" in (first.target or {}):
            subject["ticket_id"] = first.target["ticket_id"]
        state, message = _state([(w.state, w.vendor_message) for w in writes])
        batch = WriteBatch.objects.create(
            tenant_id=tenant_id,
            connection_id=first.connection_id,
            kind=kind,
            key=ref[:120],
            label=first.operation,
            subject=subject,
            requested_by_id=first.acting_user_id,
            state=state,
            vendor_message=message,
            created_at=first.created_at,
        )
        VendorWrite.objects.filter(pk__in=[w.pk for w in writes]).update(batch=batch)


class Migration(migrations.Migration):
    dependencies = [("outbox", "0003_writebatch")]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveField(model_name="vendorwrite", name="source_ref"),
        migrations.AlterField(
            model_name="vendorwrite",
            name="batch",
            field=models.ForeignKey(
                help_text="The request of a person this write belongs to.",
                on_delete=django.db.models.deletion.CASCADE,
                related_name="writes",
                to="outbox.writebatch",
            ),
        ),
    ]
