"""URL map. Each app owns its `urls.py` under its own prefix."""

from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Fieldline administration"
admin.site.site_title = "Fieldline admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("integrations/", include("connectors.urls")),
    path("alerts/", include("connectors.alerts.urls")),
    path("webhooks/", include("connectors.webhooks.urls")),
    path("", include("dispatch.urls")),
    path("", include("billing.urls")),
    path("", include("accounts.urls")),
]
