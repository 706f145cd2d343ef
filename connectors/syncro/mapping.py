"""Syncro JSON -> mirror rows, and the Syncro streams the engine runs.

Incremental filters (specs/syncro-openapi.json, vendor-apis.md §1.5): ``since_updated_at`` on
tickets and invoices, ``updated_after`` on a ticket's comments, ``created_at_gt`` on timers
(new timers only: changes to existing timers arrive with the nightly full sweep or from the
outbox's own write responses). Customers, contacts, products and line items have no filter:
their incremental run lists everything and writes only what changed ("compare"). Dates are sent
as ISO 8601 with ``Z`` (vendor-apis.md §1.5: date-only strings behave inconsistently).
"""

from __future__ import annotations

import datetime as dt

from connectors.errors import NotFound
from connectors.http import Page
from connectors.mapping import (
    Changes,
    MappingError,
    StreamSpec,
    custom_field_map,
    opt_decimal,
    opt_dt,
    opt_int,
    require_id,
    text,
)
from connectors.syncro.models import (
    SyncroContact,
    SyncroCustomer,
    SyncroInvoice,
    SyncroLineItem,
    SyncroProduct,
    SyncroTicket,
    SyncroTicketComment,
    SyncroTicketSettings,
    SyncroTimerEntry,
    SyncroUser,
    line_item_tags,
)


def zulu(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _stamps(r: dict) -> dict:
    return {
        "vendor_created_at": opt_dt(r.get("created_at"), "created_at"),
        "vendor_updated_at": opt_dt(r.get("updated_at"), "updated_at"),
    }


def _props(r: dict) -> dict:
    return custom_field_map(r.get("properties"))


def map_customer(r: dict) -> dict:
    return {
        "vendor_id": require_id(r),
        **_stamps(r),
        "custom_fields": _props(r),
        "business_name": text(r.get("business_name"), 255),
        "firstname": text(r.get("firstname"), 120),
        "lastname": text(r.get("lastname"), 120),
        "name": text(
            r.get("business_then_name") or r.get("business_name") or r.get("fullname"), 255
        ),
        "email": text(r.get("email"), 255),
        "phone": text(r.get("phone") or r.get("mobile"), 60),
        "disabled": bool(r.get("disabled")),
    }


def map_contact(r: dict) -> dict:
    return {
        "vendor_id": require_id(r),
        **_stamps(r),
        "custom_fields": _props(r),
        "customer_vendor_id": opt_int(r.get("customer_id"), "customer_id"),
        "name": text(r.get("name"), 255),
        "email": text(r.get("email"), 255),
        "phone": text(r.get("phone") or r.get("mobile"), 60),
    }


def map_product(r: dict) -> dict:
    return {
        "vendor_id": require_id(r),
        **_stamps(r),
        "custom_fields": _props(r),
        "name": text(r.get("name"), 255),
        "description": text(r.get("description")),
        "product_category": text(r.get("product_category"), 120),
        "upc_code": text(r.get("upc_code"), 120),
        "price_cost": opt_decimal(r.get("price_cost"), "price_cost"),
        "price_retail": opt_decimal(r.get("price_retail"), "price_retail"),
        "taxable": bool(r.get("taxable")),
        "disabled": bool(r.get("disabled")),
    }


def map_ticket(r: dict) -> dict:
    return {
        "vendor_id": require_id(r),
        **_stamps(r),
        "custom_fields": _props(r),
        "number": text(r.get("number"), 40),
        "subject": text(r.get("subject"), 500),
        "status": text(r.get("status"), 60),
        "problem_type": text(r.get("problem_type"), 120),
        "priority": text(r.get("priority"), 60),
        "ticket_type_name": text(r.get("ticket_type_name"), 120),
        "customer_vendor_id": opt_int(r.get("customer_id"), "customer_id"),
        "customer_name": text(r.get("customer_business_then_name"), 255),
        "contact_vendor_id": opt_int(r.get("contact_id"), "contact_id"),
        "user_vendor_id": opt_int(r.get("user_id"), "user_id"),
        "due_date": opt_dt(r.get("due_date"), "due_date"),
        "resolved_at": opt_dt(r.get("resolved_at"), "resolved_at"),
    }


def map_comment(r: dict) -> dict:
    ticket = opt_int(r.get("ticket_id"), "ticket_id")
    if ticket is None:
        raise MappingError("missing ticket_id")
    return {
        "vendor_id": require_id(r),
        **_stamps(r),
        "ticket_vendor_id": ticket,
        "subject": text(r.get("subject"), 500),
        "body": text(r.get("body")),
        "tech": text(r.get("tech"), 255),
        "hidden": bool(r.get("hidden")),
        "user_vendor_id": opt_int(r.get("user_id"), "user_id"),
    }


def map_line_item(r: dict) -> dict:
    """GET /line_items item (or a ticket's ``line_items`` entry) -> `SyncroLineItem` columns,
    with the ``[ST-JOB num]`` tags its ``name`` and ``description`` carry
    (`connectors.job_tags.tag_columns`)."""
    name = text(r.get("name"), 500)
    return {
        "vendor_id": require_id(r),
        **_stamps(r),
        "invoice_vendor_id": opt_int(r.get("invoice_id"), "invoice_id"),
        "ticket_vendor_id": opt_int(r.get("ticket_id"), "ticket_id"),
        "product_vendor_id": opt_int(r.get("product_id"), "product_id"),
        "item": text(r.get("item"), 255),
        "name": name,
        "quantity": opt_decimal(r.get("quantity"), "quantity", places=3),
        "cost": opt_decimal(r.get("cost", r.get("price_cost")), "cost"),
        "price": opt_decimal(r.get("price", r.get("price_retail")), "price"),
        "taxable": bool(r.get("taxable")),
        "position": opt_int(r.get("position"), "position"),
        **line_item_tags(name, r),
    }


def map_timer(r: dict) -> dict:
    return {
        "vendor_id": require_id(r),
        **_stamps(r),
        "ticket_vendor_id": opt_int(r.get("ticket_id"), "ticket_id"),
        "user_vendor_id": opt_int(r.get("user_id"), "user_id"),
        "product_vendor_id": opt_int(r.get("product_id"), "product_id"),
        "ticket_line_item_vendor_id": opt_int(r.get("ticket_line_item_id"), "ticket_line_item_id"),
        "start_time": opt_dt(r.get("start_time"), "start_time"),
        "end_time": opt_dt(r.get("end_time"), "end_time"),
        "recorded": bool(r.get("recorded")),
        "billable": bool(r.get("billable")),
        "notes": text(r.get("notes")),
        "active_duration": opt_int(r.get("active_duration"), "active_duration"),
        "billable_time": opt_int(r.get("billable_time"), "billable_time"),
    }


def map_invoice(r: dict) -> dict:
    return {
        "vendor_id": require_id(r),
        **_stamps(r),
        "number": text(r.get("number"), 60),
        "customer_vendor_id": opt_int(r.get("customer_id"), "customer_id"),
        "customer_name": text(r.get("customer_business_then_name"), 255),
        "ticket_vendor_id": opt_int(r.get("ticket_id"), "ticket_id"),
        "date": opt_dt(r.get("date"), "date"),
        "due_date": opt_dt(r.get("due_date"), "due_date"),
        "subtotal": opt_decimal(r.get("subtotal"), "subtotal"),
        "tax": opt_decimal(r.get("tax"), "tax"),
        "total": opt_decimal(r.get("total"), "total"),
        "is_paid": bool(r.get("is_paid") or r.get("verified_paid")),
    }


# --- fetchers --------------------------------------------------------------------------


def _list(resource: str, since_param: str | None = None):
    def fetch(client, cursor: dict) -> Page:
        params = {}
        if since_param and cursor.get("since"):
            params[since_param] = zulu(cursor["since"])
        return client.list_page(resource, page=cursor["page"], params=params)

    return fetch


def fetch_users(client, cursor: dict) -> Page:
    """GET /users in one request (no paging in the spec)."""
    return Page(records=client.users(), number=1, next_page=None)


def map_user(r) -> dict:
    """``[id, name]`` (spec example) or ``{"id", "name"}``."""
    if isinstance(r, list | tuple) and len(r) >= 2:
        r = {"id": r[0], "name": r[1]}
    if not isinstance(r, dict):
        raise MappingError(f"a user should be [id, name], got {type(r).__name__}")
    return {"vendor_id": require_id(r), "name": text(r.get("name"), 255)}


SETTINGS_ID = 0  # one settings row per connection


def fetch_ticket_settings(client, cursor: dict) -> Page:
    """GET /tickets/settings, one record."""
    return Page(records=[{"id": SETTINGS_ID, **client.ticket_settings()}], number=1, next_page=None)


def map_ticket_settings(r: dict) -> dict:
    statuses = r.get("ticket_status_list")
    if not isinstance(statuses, list) or not all(isinstance(x, str) for x in statuses):
        raise MappingError("ticket_status_list is not a list of names")
    priorities = r.get("priorities") if isinstance(r.get("priorities"), list) else []
    types = [
        {"id": t.get("id"), "name": t.get("name"), "disabled": bool(t.get("disabled"))}
        for t in r.get("ticket_types") or []
        if isinstance(t, dict)
    ]
    return {
        "vendor_id": SETTINGS_ID,
        "statuses": statuses,
        "priorities": [p for p in priorities if isinstance(p, str)],
        "ticket_types": types,
        "default_labor_product_id": opt_int(
            r.get("default_labor_product_id"), "default_labor_product_id"
        ),
    }


def fetch_comments(client, cursor: dict) -> Page:
    """One page of a ticket's comments (``updated_after`` the cursor's ``since``). A 404 means
    the ticket was deleted at Syncro after the mirror last saw it (an incremental of tickets
    does not detect deletions): no comments, the next ticket; the nightly sweep marks both
    deleted."""
    # per_page: up to 100 (spec: "default is 10"), to spend fewer requests per ticket
    params = {"per_page": 100}
    if cursor.get("since"):
        params["updated_after"] = zulu(cursor["since"])
    try:
        return client.ticket_comments_page(cursor["parent"], page=cursor["page"], params=params)
    except NotFound:
        return Page(records=[], number=cursor["page"], next_page=None)


def ticket_parents(connection, since: dt.datetime | None):
    """Tickets whose comments to fetch: all live ones, or those updated since `since`."""
    qs = SyncroTicket.objects.filter(connection=connection, is_deleted=False)
    if since is not None:
        qs = qs.filter(vendor_updated_at__gte=since)
    return qs.order_by("vendor_id")


STREAMS = [
    StreamSpec(
        "ticket_settings",
        SyncroTicketSettings,
        fetch_ticket_settings,
        map_ticket_settings,
        "compare",
        label="Ticket settings",
        detect_deletions=False,
        changes=Changes.SNAPSHOT,
        requests_per_run=1,
    ),
    StreamSpec(
        "users",
        SyncroUser,
        fetch_users,
        map_user,
        "compare",
        changes=Changes.SNAPSHOT,
        requests_per_run=1,
    ),
    # no updated-since filter (vendor-apis.md §1.5) and no webhooks: the nightly sweep; the
    # portal's own writes (invoices and their lines, ticket line items) are written through
    StreamSpec(
        "customers",
        SyncroCustomer,
        _list("customers"),
        map_customer,
        "compare",
        changes=Changes.SWEEP,
    ),
    StreamSpec(
        "contacts", SyncroContact, _list("contacts"), map_contact, "compare", changes=Changes.SWEEP
    ),
    StreamSpec(
        "products", SyncroProduct, _list("products"), map_product, "compare", changes=Changes.SWEEP
    ),
    StreamSpec(
        "tickets",
        SyncroTicket,
        _list("tickets", "since_updated_at"),
        map_ticket,
        "filter",
        changes=Changes.VENDOR_FILTER,
        changes_param="since_updated_at",
    ),
    StreamSpec(
        "ticket_comments",
        SyncroTicketComment,
        fetch_comments,
        map_comment,
        "filter",
        parents=ticket_parents,
        label="Ticket comments",
        parent_field="ticket_vendor_id",
        full_window_setting="SYNC_COMMENTS_FULL_SWEEP_DAYS",
        parent_noun="ticket",
        # only tickets whose updated_at moved (the mirror's tickets, synced just before), at
        # most CONNECTORS_COMMENT_TICKETS_PER_RUN per incremental, then `updated_after`
        changes=Changes.VENDOR_FILTER,
        changes_param="updated_after",
        parents_per_run_setting="CONNECTORS_COMMENT_TICKETS_PER_RUN",
    ),
    StreamSpec(
        "invoices",
        SyncroInvoice,
        _list("invoices", "since_updated_at"),
        map_invoice,
        "filter",
        changes=Changes.VENDOR_FILTER,
        changes_param="since_updated_at",
    ),
    StreamSpec(
        "line_items",
        SyncroLineItem,
        _list("line_items"),
        map_line_item,
        "compare",
        changes=Changes.SWEEP,
    ),
    StreamSpec(
        "ticket_timers",
        SyncroTimerEntry,
        _list("ticket_timers", "created_at_gt"),
        map_timer,
        "filter",
        label="Timer entries",
        # new timers only: a changed timer waits for the nightly sweep or its write-through
        changes=Changes.VENDOR_FILTER,
        changes_param="created_at_gt",
    ),
]
