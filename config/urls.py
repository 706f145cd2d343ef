"""URL map. Each app owns its `urls.py` under its own prefix."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "Fieldline administration"
admin.site.site_title = "Fieldline admin"

urlpatterns = [
    # One sign-in page for everyone: the admin's own would skip the second step (accounts/mfa.py).
    path("admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("admin/", admin.site.urls),
    path("integrations/", include("connectors.urls")),
    path("alerts/", include("connectors.alerts.urls")),
    path("webhooks/", include("connectors.webhooks.urls")),
    path("events/", include("connectors.events.urls")),
    path("", include("dispatch.urls")),
    path("", include("billing.urls")),
    path("", include("accounts.urls")),
]
