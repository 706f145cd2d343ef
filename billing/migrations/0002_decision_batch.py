"""A draft's stored status becomes the person's `decision`; after approval its status is its
`WriteBatch`'s state (linked here by the batch key ``draft:<uuid>``)."""

from django.db import migrations, models
import django.db.models.deletion


def forwards(apps, schema_editor):
    BillingDraft = apps.get_model("billing", "BillingDraft")
    WriteBatch = apps.get_model("outbox", "WriteBatch")
    BillingDraft.objects.filter(decision__in=["invoiced", "needs_attention"]).update(
        decision="approved"
    )
    for draft in BillingDraft.objects.filter(decision="approved").iterator():
        batch = WriteBatch.objects.filter(
            tenant_id=draft.tenant_id, key=f"draft:{draft.uuid}"
        ).first()
        if batch is not None:
            BillingDraft.objects.filter(pk=draft.pk).update(batch=batch)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0001_initial"),
        ("outbox", "0004_batches_from_source_ref"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="billingdraft", name="draft_status"),
        migrations.RemoveIndex(model_name="billingdraft", name="draft_tech"),
        migrations.RemoveIndex(model_name="billingdraft", name="draft_cust"),
        migrations.RenameField(model_name="billingdraft", old_name="status", new_name="decision"),
        migrations.AddField(
            model_name="billingdraft",
            name="batch",
            field=models.OneToOneField(
                blank=True,
                help_text="The writes approving it queued (comment, line item, invoice, status).",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="draft",
                to="outbox.writebatch",
            ),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="billingdraft",
            name="decision",
            field=models.CharField(
                choices=[
                    ("pending", "Awaiting approval"),
                    ("approved", "Approved"),
                    ("rejected", "Rejected"),
                ],
                default="pending",
                max_length=20,
            ),
        ),
        migrations.RemoveField(model_name="billingdraft", name="vendor_message"),
        migrations.AddIndex(
            model_name="billingdraft",
            index=models.Index(fields=["tenant", "decision", "-created_at"], name="draft_status"),
        ),
        migrations.AddIndex(
            model_name="billingdraft",
            index=models.Index(fields=["tenant", "drafted_by", "decision"], name="draft_tech"),
        ),
        migrations.AddIndex(
            model_name="billingdraft",
            index=models.Index(
                fields=["tenant", "customer_vendor_id", "decision"], name="draft_cust"
            ),
        ),
    ]
