"""Integrations URLs (mounted at /integrations/)."""

from __future__ import annotations

from django.urls import path

from connectors import connect_views, key_views, views

app_name = "connectors"
urlpatterns = [
    path("", views.integrations, name="integrations"),
    path("<uuid:connection_uuid>/sync/", views.connection_sync, name="sync"),
    path("<uuid:connection_uuid>/verify/", views.connection_verify_view, name="verify"),
    path("connect/<slug:vendor>/", connect_views.vendor_connect_view, name="connect"),
    path("keys/", key_views.my_keys, name="my_keys"),
    path("keys/add/<slug:vendor>/", key_views.key_add, name="key_add"),
    path("keys/<uuid:key_uuid>/rotate/", key_views.key_rotate, name="key_rotate"),
    path("keys/<uuid:key_uuid>/verify/", key_views.key_verify, name="key_verify"),
    path("keys/<uuid:key_uuid>/revoke/", key_views.key_revoke, name="key_revoke"),
]
