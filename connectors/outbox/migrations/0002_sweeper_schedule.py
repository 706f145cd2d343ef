"""The outbox sweeper runs every minute (django-q2 schedule, no catch-up of missed runs)."""

from django.db import migrations


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name="outbox-sweeper",
        defaults={
            "func": "connectors.outbox.tasks.sweep",
            "schedule_type": "I",
            "minutes": 1,
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name="outbox-sweeper").delete()


class Migration(migrations.Migration):
    dependencies = [("outbox", "0001_initial"), ("django_q", "0018_task_success_index")]
    operations = [migrations.RunPython(create_schedule, delete_schedule)]
