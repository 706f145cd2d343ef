import uuid

from django.db import migrations, models


def fill_membership_uuids(apps, schema_editor):
    Membership = apps.get_model("accounts", "Membership")
    for membership in Membership.objects.filter(uuid__isnull=True).only("pk"):
        membership.uuid = uuid.uuid4()
        membership.save(update_fields=["uuid"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_billing_settings"),
    ]

    operations = [
        migrations.AddField(
            model_name="tenant",
            name="require_mfa",
            field=models.BooleanField(
                default=False,
                help_text="Owners, admins and billing approvers must sign in with an authenticator app code; those without one are sent to set it up after their password.",
                verbose_name="require two-step sign-in",
            ),
        ),
        migrations.AddField(
            model_name="membership",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(fill_membership_uuids, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="membership",
            name="uuid",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
