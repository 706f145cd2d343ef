from django.urls import path

from connectors.fieldcamp import views

app_name = "fieldcamp"

urlpatterns = [
    path("", views.integrations, name="integrations"),
    path("<slug:integration>/refresh/", views.refresh_now, name="refresh"),
    path("<slug:integration>/", views.integration_row, name="integration"),
    path("calendar-changes/pull/", views.calendar_pull, name="calendar_pull"),
]
