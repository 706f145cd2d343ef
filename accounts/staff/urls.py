from django.urls import path

from accounts.staff import views

app_name = "staff"

urlpatterns = [
    path("", views.staff, name="list"),
    path("invite/", views.invite, name="invite"),
    path(
        "invitations/<uuid:invitation_uuid>/resend/",
        views.invitation_action,
        {"action": "resend"},
        name="invitation_resend",
    ),
    path(
        "invitations/<uuid:invitation_uuid>/revoke/",
        views.invitation_action,
        {"action": "revoke"},
        name="invitation_revoke",
    ),
    *[
        path(
            f"members/<uuid:member_uuid>/{action}/",
            views.member_action,
            {"action": action},
            name=f"member_{action.replace('-', '_')}",
        )
        for action in ("role", "deactivate", "reactivate", "reset-mfa")
    ],
]
