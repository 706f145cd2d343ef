"""System checks of the sync schedules against the vendors' request limits.

``connectors.W001``: an enabled connection's scheduled syncs (incrementals every
``incremental_every``, the nightly sweep, the last day's webhook refreshes) would spend more
requests a day than the vendor's daily quota (Synchroteam ``SYNCHROTEAM_DAILY_QUOTA``,
vendor-apis.md §2.6): the quota runs out and runs pause until its reset.

``connectors.W002``: one scheduled incremental needs more minutes of the read budget than its
interval, so incrementals run back to back (Syncro's 728-request incremental at 60/min was
12 min against a 10-minute schedule).

The figures are `connectors.budget.connection_budget` (three queries for all connections). A
database that is not migrated yet is skipped.
"""

from __future__ import annotations

from django.core.checks import Warning, register
from django.db import DatabaseError


@register()
def check_schedules_fit_the_quota(app_configs=None, **kwargs):
    """Warnings W001 / W002 (module docstring) for each enabled connection."""
    from connectors.budget import all_connection_budgets
    from connectors.models import Connection

    warnings = []
    try:
        connections = list(Connection.objects.filter(enabled=True).select_related("tenant"))
        for connection, plan in all_connection_budgets(connections):
            every = plan.incremental_every_minutes
            if plan.over_quota:
                warnings.append(
                    Warning(
                        f"{connection}: the configured schedules need about {plan.per_day:,} "
                        f"requests a day, more than the {plan.daily_quota:,} of the vendor's "
                        "daily quota.",
                        hint=f"Lengthen the incremental interval (now {every} min) on the "
                        "connection, configure the vendor's webhooks so webhook streams leave "
                        "the incremental, or raise the vendor quota.",
                        obj=connection,
                        id="connectors.W001",
                    )
                )
            if plan.incremental_overruns:
                warnings.append(
                    Warning(
                        f"{connection}: one incremental needs about {plan.per_incremental:,} "
                        f"requests, more than {every} min at {plan.read_per_minute}/min allow.",
                        hint="Lengthen the incremental interval or lower "
                        "CONNECTORS_COMMENT_TICKETS_PER_RUN.",
                        obj=connection,
                        id="connectors.W002",
                    )
                )
    except DatabaseError:
        return []  # tables not created yet (before migrate)
    return warnings
