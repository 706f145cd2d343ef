"""``{% draft_row draft %}``: the billing queue's row (`billing.rows.draft_row`) from a page's
context, in its own library so the row builder can use the billing filters."""

from __future__ import annotations

from django import template

from billing import money, rows

register = template.Library()


@register.simple_tag(takes_context=True)
def draft_row(context, draft):
    """``{% draft_row draft %}``: the queue row of `draft` (`billing.rows.draft_row`), from
    the page's context: `reviews` ({uuid: Review}), `writes_by_draft` ({uuid: [write]}) or
    `writes` (this draft's), `amounts` ({pk: amount}; priced here when absent),
    `is_approver`, `currency` and `error`."""
    reviews = context.get("reviews") or {}
    by_draft = context.get("writes_by_draft")
    writes = by_draft.get(draft.uuid) if by_draft is not None else context.get("writes")
    amounts = context.get("amounts")
    if amounts is None:
        amounts = money.draft_amounts([draft])
    return rows.draft_row(
        draft,
        review=reviews.get(draft.uuid),
        writes=list(writes or []),
        is_approver=bool(context.get("is_approver")),
        amount=amounts.get(draft.pk),
        currency=context.get("currency") or "USD",
        error=context.get("error") or "",
    )
