"""Synchroteam's own vocabulary, shared by the portal and the sandbox that emulates it.

Job statuses: synchroteam-py ``check_status_job`` (vendor-apis.md §2.5), in lifecycle order.
Which statuses ``job/schedule`` accepts is our reading of ief_lib's notes (§2.3), not documented.
"""

from __future__ import annotations

JOB_STATUSES = [
    "created",
    "scheduled",
    "synchronized",
    "started",
    "paused",
    "completed",
    "validated",
    "cancelled",
]
SCHEDULABLE_STATUSES = ("created", "scheduled", "synchronized")
