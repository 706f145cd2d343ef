from django.urls import path

from connectors.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("fieldcamp/<uuid:connection_uuid>/", views.fieldcamp_webhook, name="fieldcamp"),
    path("synchroteam/<uuid:connection_uuid>/", views.synchroteam_webhook, name="synchroteam"),
    path(
        "synchroteam/<uuid:connection_uuid>/<str:token>/",
        views.synchroteam_webhook,
        name="synchroteam_token",
    ),
]
