"""Ticket review and billing approval (mounted at the site root)."""

from django.urls import path

from billing import invoice_views, ticket_invoice_views, ticket_views, timer_views, views

app_name = "billing"
urlpatterns = [
    path("tickets/", ticket_views.ticket_list, name="ticket_list"),
    path("tickets/new/", ticket_views.ticket_create, name="ticket_create"),
    path("tickets/<int:ticket_id>/", ticket_views.ticket_detail, name="ticket_detail"),
    path("tickets/<int:ticket_id>/comment/", ticket_views.ticket_comment, name="ticket_comment"),
    path("tickets/<int:ticket_id>/update/", ticket_views.ticket_update, name="ticket_update"),
    path("tickets/<int:ticket_id>/close/", ticket_views.ticket_close, name="ticket_close"),
    path("tickets/<int:ticket_id>/timers/", timer_views.ticket_timers, name="ticket_timers"),
    path(
        "tickets/<int:ticket_id>/timers/<int:timer_id>/charge/",
        timer_views.timer_charge,
        name="timer_charge",
    ),
    path("tickets/<int:ticket_id>/bill/", views.draft_create, name="draft_create"),
    path("tickets/<int:ticket_id>/invoice-preview/", views.invoice_preview, name="invoice_preview"),
    path("tickets/<int:ticket_id>/session-log.md", ticket_views.session_log, name="session_log"),
    path("billing/", views.queue, name="queue"),
    path("billing/approve/", views.queue_approve, name="queue_approve"),
    path("billing/drafts/<uuid:draft_uuid>/", views.draft_detail, name="draft_detail"),
    path("billing/drafts/<uuid:draft_uuid>/approve/", views.draft_approve, name="draft_approve"),
    path("billing/drafts/<uuid:draft_uuid>/reject/", views.draft_reject, name="draft_reject"),
    path(
        "billing/ticket-invoices/<uuid:invoice_uuid>/",
        ticket_invoice_views.ticket_invoice,
        name="ticket_invoice",
    ),
    path(
        "billing/invoices/<int:invoice_id>/",
        invoice_views.invoice_detail,
        name="invoice_detail",
    ),
    path("billing/writes/<uuid:write_uuid>/", views.write_status, name="write_status"),
    path("billing/labor-types/", views.labor_types, name="labor_types"),
    path("billing/audit/", views.audit, name="audit"),
]
