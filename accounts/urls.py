from django.contrib.auth import views as auth_views
from django.urls import path

from accounts import home, preferences, views
from accounts.forms import EmailAuthenticationForm

urlpatterns = [
    path("", home.home, name="home"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=EmailAuthenticationForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"
    ),
    path("companies/", views.tenant_list, name="tenant_list"),
    path("companies/<uuid:tenant_uuid>/switch/", views.tenant_switch, name="tenant_switch"),
    path("company/", views.tenant_settings, name="tenant_settings"),
    path("me/time-zone/", preferences.my_time_zone, name="my_time_zone"),
]
