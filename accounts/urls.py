from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import home, mfa, mfa_views, preferences, views
from accounts.staff import views as staff_views

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", mfa_views.login_view, name="login"),
    path("login/code/", mfa_views.login_verify, name="login_verify"),
    path("logout/", mfa_views.logout_view, name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path("account/two-step/", mfa_views.security, name="mfa_security"),
    path("account/two-step/enrol/", mfa_views.enrol, name="mfa_enrol"),
    path("account/two-step/recovery-codes/", mfa_views.recovery_codes, name="mfa_recovery_codes"),
    path("account/two-step/off/", mfa_views.disable, name="mfa_disable"),
    path("invite/<str:token>/", staff_views.invitation_accept, name="invitation_accept"),
    path("companies/", views.tenant_list, name="tenant_list"),
    path(
        "companies/<uuid:tenant_uuid>/switch/",
        mfa.mfa_exempt(views.tenant_switch),  # the next page is checked for the new company
        name="tenant_switch",
    ),
    path("company/", views.tenant_settings, name="tenant_settings"),
    path("me/time-zone/", preferences.my_time_zone, name="my_time_zone"),
    path("company/staff/", include("accounts.staff.urls")),
]
