"""Dispatch URLs (mounted at the site root): the jobs board under ``/jobs/``, reconciliation and
the timesheet under ``/reconciliation/``, the Calendars panel under ``/fieldcamp/``, stock and
replenishment under ``/inventory/``."""

from django.urls import path

from dispatch import equipment_views, export_views, views
from dispatch.inventory import views as inventory

app_name = "dispatch"
urlpatterns = [
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/board/", views.job_board, name="board"),
    path("jobs/new/", views.job_new, name="job_new"),
    path("jobs/customers/", views.customer_search, name="customer_search"),
    path("jobs/requests/<uuid:batch_uuid>/", views.job_request, name="job_request"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/schedule/", views.job_schedule, name="job_schedule"),
    path("jobs/<int:job_id>/attachments/", equipment_views.job_attachments, name="job_attachments"),
    path(
        "jobs/<int:job_id>/attachments/refresh/",
        equipment_views.job_attachments_refresh,
        name="job_attachments_refresh",
    ),
    path("equipment/", equipment_views.equipment_list, name="equipment_list"),
    path(
        "equipment/<int:equipment_id>/", equipment_views.equipment_detail, name="equipment_detail"
    ),
    path("exports/", export_views.export_list, name="exports"),
    path("exports/<slug:name>.csv", export_views.export_download, name="export_download"),
    path("reconciliation/", views.unbilled, name="unbilled"),
    path("reconciliation/jobs/<int:job_id>/draft/", views.draft_billing, name="draft_billing"),
    path("reconciliation/timesheet/", views.timesheet, name="timesheet"),
    path("fieldcamp/", views.calendars, name="calendars"),
    path("fieldcamp/<slug:integration>/refresh/", views.calendar_refresh, name="calendar_refresh"),
    path("fieldcamp/<slug:integration>/", views.calendar_row, name="calendar_row"),
    path("fieldcamp/calendar-changes/pull/", views.calendar_pull, name="calendar_pull"),
    path("inventory/", inventory.inventory, name="inventory"),
    path("inventory/below/", inventory.below, name="inventory_below"),
    path("inventory/depots/<int:depot_id>/", inventory.depot_detail, name="inventory_depot"),
    path(
        "inventory/depots/<int:depot_id>/minimum/",
        inventory.minimum_set,
        name="inventory_minimum",
    ),
    path(
        "inventory/depots/<int:depot_id>/parts/<int:part_id>/replenish/",
        inventory.replenish,
        name="inventory_replenish",
    ),
    path("inventory/parts/<int:part_id>/", inventory.part_detail, name="inventory_part"),
    path(
        "inventory/requests/<uuid:batch_uuid>/",
        inventory.replenish_request,
        name="inventory_request",
    ),
]
