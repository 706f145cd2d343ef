"""Template tags of the technician board.

``{% board_slot job prefix %}``: one job as the board shows it, built in one call instead of
seven lookups and filters per job (a week of 100 000 jobs a year is about 2 000 slots).
"""

from __future__ import annotations

from html import escape

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from accounts.templatetags.portal import tone

register = template.Library()


@register.simple_tag
def board_slot(job, prefix: str) -> SafeString:
    """A job's badge link: ``<a class="slot badge badge-<tone>" href="<prefix><vendor_id>/"
    title="<type> · <customer>">HH:MM #<num></a>``, the time in the current time zone, the
    tone from the job's status (`accounts.templatetags.portal.tone`), every value escaped."""
    start = job.scheduled_start
    at = timezone.localtime(start).strftime("%H:%M") if start else ""
    # stdlib html.escape: what django.utils.html.escape does, without its lazy-string wrapper
    # (2 000 slots x 6 values); the vendor id is an integer
    href = f"{escape(prefix)}{int(job.vendor_id)}/"
    title = f"{escape(job.type_name or '')} · {escape(job.customer_name or '')}"
    return mark_safe(  # noqa: S308 (every value escaped above)
        f'<a class="slot badge badge-{tone(job.status)}" href="{href}" title="{title}">'
        f"{at} #{escape(job.num or '')}</a>"
    )
