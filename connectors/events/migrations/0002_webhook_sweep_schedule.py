from django.db import migrations

NAMES = ["events:webhook-sweep"]


def create_schedule(apps, schema_editor):
    """The outbound webhook sweep every minute (fields in connectors.schedules.GLOBAL_SCHEDULES)."""
    from connectors.schedules import global_schedules_ensure

    global_schedules_ensure(NAMES, schedule_model=apps.get_model("django_q", "Schedule"))


def delete_schedule(apps, schema_editor):
    from connectors.schedules import global_schedules_delete

    global_schedules_delete(NAMES, schedule_model=apps.get_model("django_q", "Schedule"))


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_outbound_webhooks"),
        ("django_q", "0018_task_success_index"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
