"""Create the demo tenants, staff and (when installed) vendor connections and sample data."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from accounts.demo import DEFAULT_PASSWORD, DEMO_STAFF, seed_accounts


class Command(BaseCommand):
    help = "Create or refresh the demo tenant 'Demo Field Services', its staff, and 'Other Co'. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password", default=DEFAULT_PASSWORD, help="Password for every demo login."
        )

    def handle(self, *args, password: str, **options):
        accounts = seed_accounts(password)
        for step in _extra_steps():
            step(accounts, self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Demo ready. Logins (password: {password}):"))
        for email, _first, _last, role, tenant, _staff in DEMO_STAFF:
            self.stdout.write(f"  {email:<22} {role.label:<11} {tenant}")


def _extra_steps():
    """Seeding steps of the other apps: each exposes `seed_demo(accounts, stdout)` in `demo.py`."""
    from importlib import import_module

    steps = []
    for module_name in ("connectors.demo", "billing.demo"):
        try:
            steps.append(import_module(module_name).seed_demo)
        except ModuleNotFoundError:
            continue
    return steps
