"""Alerts URLs (mounted at /alerts/)."""

from __future__ import annotations

from django.urls import path

from connectors.alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("settings/", views.alert_settings, name="settings"),
    path("<uuid:alert_uuid>/acknowledge/", views.alert_acknowledge_view, name="acknowledge"),
    path("<uuid:alert_uuid>/snooze/", views.alert_snooze_view, name="snooze"),
]
