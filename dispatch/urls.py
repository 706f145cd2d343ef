"""Dispatch URLs (mounted at the site root): the jobs board under ``/jobs/``, reconciliation and
the timesheet under ``/reconciliation/``, the Calendars panel under ``/fieldcamp/``."""

from django.urls import path

from dispatch import views

app_name = "dispatch"
urlpatterns = [
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/board/", views.job_board, name="board"),
    path("jobs/new/", views.job_new, name="job_new"),
    path("jobs/customers/", views.customer_search, name="customer_search"),
    path("jobs/requests/<uuid:batch_uuid>/", views.job_request, name="job_request"),
    path("jobs/<int:job_id>/", views.job_detail, name="job_detail"),
    path("jobs/<int:job_id>/schedule/", views.job_schedule, name="job_schedule"),
    path("reconciliation/", views.unbilled, name="unbilled"),
    path("reconciliation/jobs/<int:job_id>/draft/", views.draft_billing, name="draft_billing"),
    path("reconciliation/timesheet/", views.timesheet, name="timesheet"),
    path("fieldcamp/", views.calendars, name="calendars"),
    path("fieldcamp/<slug:integration>/refresh/", views.calendar_refresh, name="calendar_refresh"),
    path("fieldcamp/<slug:integration>/", views.calendar_row, name="calendar_row"),
    path("fieldcamp/calendar-changes/pull/", views.calendar_pull, name="calendar_pull"),
]
