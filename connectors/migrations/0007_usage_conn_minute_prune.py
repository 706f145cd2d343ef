"""RequestUsage indexed by (connection, minute) for the Integrations card, the forecast and the
daily quota; the nightly ``usage:prune`` schedule (fields in connectors.schedules.GLOBAL_SCHEDULES)
deletes rows older than REQUEST_USAGE_RETENTION_DAYS."""

from django.db import migrations, models

NAMES = ["usage:prune"]


def create_schedule(apps, schema_editor):
    from connectors.schedules import global_schedules_ensure

    global_schedules_ensure(NAMES, schedule_model=apps.get_model("django_q", "Schedule"))


def delete_schedule(apps, schema_editor):
    from connectors.schedules import global_schedules_delete

    global_schedules_delete(NAMES, schedule_model=apps.get_model("django_q", "Schedule"))


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0006_connection_schedule_bounds"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="requestusage",
            index=models.Index(fields=["connection", "minute"], name="usage_conn_minute"),
        ),
        migrations.RunPython(create_schedule, delete_schedule),
    ]
