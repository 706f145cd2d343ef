"""``manage.py prune_usage``: delete old `RequestUsage` rows now (the nightly ``usage:prune``
schedule does the same)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from connectors.usage import prune_usage


class Command(BaseCommand):
    help = "Delete per-minute request usage rows older than REQUEST_USAGE_RETENTION_DAYS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=None,
            help=f"Keep this many days (default {settings.REQUEST_USAGE_RETENTION_DAYS}).",
        )

    def handle(self, *args, days=None, **options):
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        deleted = prune_usage(days=days)
        self.stdout.write(f"Deleted {deleted} request usage rows.")
