"""Integrations URLs (mounted at /integrations/)."""

from __future__ import annotations

from django.urls import path

from connectors import views

app_name = "connectors"
urlpatterns = [
    path("", views.integrations, name="integrations"),
    path("<uuid:connection_uuid>/sync/", views.connection_sync, name="sync"),
    path("<uuid:connection_uuid>/verify/", views.connection_verify_view, name="verify"),
]
