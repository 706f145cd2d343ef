"""Outbound webhook pages (mounted at ``/events/``)."""

from django.urls import path

from connectors.events import views

app_name = "events"
urlpatterns = [
    path("webhooks/", views.endpoint_list, name="endpoints"),
    path("webhooks/new/", views.endpoint_new, name="endpoint_new"),
    path("webhooks/<uuid:endpoint_uuid>/", views.endpoint_edit, name="endpoint_edit"),
    path("webhooks/<uuid:endpoint_uuid>/rotate/", views.endpoint_rotate, name="endpoint_rotate"),
    path("deliveries/", views.delivery_list, name="deliveries"),
    path("deliveries/<uuid:delivery_uuid>/", views.delivery_detail, name="delivery"),
    path("deliveries/<uuid:delivery_uuid>/resend/", views.delivery_resend, name="delivery_resend"),
]
