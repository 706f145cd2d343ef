"""Sign-in by e-mail address, lockout after repeated failures, sign-out."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.conftest import PASSWORD


def _login(client: Client, email: str, password: str, ip: str = "10.0.0.5"):
    return client.post("/login/", {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_signing_in_with_the_right_password_lands_on_the_tenant_home(world):
    client = Client()
    response = _login(client, "billing@demo.test", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert b"Demo Field Services" in home.content
    assert b"Bill" in home.content


def test_signing_in_ignores_the_case_of_the_email_address(world):
    response = _login(Client(), "Billing@Demo.TEST", PASSWORD)
    assert response.status_code == 302


def test_a_wrong_password_is_refused_with_a_message_and_keeps_the_email(world):
    response = _login(Client(), "billing@demo.test", "not-the-password")
    assert response.status_code == 200
    assert b"do not match an account" in response.content
    assert b'value="billing@demo.test"' in response.content
    assert "_auth_user_id" not in response.wsgi_request.session


def test_five_failures_lock_the_email_and_address_out_even_with_the_right_password(world):
    client = Client()
    for _ in range(5):
        _login(client, "billing@demo.test", "wrong-password")
    response = _login(client, "billing@demo.test", PASSWORD)
    assert response.status_code == 429
    assert b"Too many failed sign-ins" in response.content
    assert b"15 minutes" in response.content
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.filter(username="billing@demo.test").exists()


def test_a_lockout_does_not_lock_the_same_person_out_from_another_address(world):
    client = Client()
    for _ in range(5):
        _login(client, "billing@demo.test", "wrong-password", ip="10.0.0.5")
    response = _login(Client(), "billing@demo.test", PASSWORD, ip="10.0.0.99")
    assert response.status_code == 302


def test_four_failures_then_success_resets_the_counter(world):
    client = Client()
    for _ in range(4):
        _login(client, "billing@demo.test", "wrong-password")
    assert _login(client, "billing@demo.test", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.filter(
        username="billing@demo.test", failures_since_start__gt=0
    ).exists()


def test_signing_out_ends_the_session(world):
    client = Client()
    _login(client, "owner@demo.test", PASSWORD)
    assert client.get("/").status_code == 200
    response = client.post("/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302  # back to the login page


def test_sign_out_by_get_is_refused(world):
    client = world.client_for(world.owner)
    assert client.get("/logout/").status_code == 405


@pytest.mark.parametrize("path", ["/", "/company/", "/companies/"])
def test_anonymous_visitors_are_sent_to_the_login_page(db, path):
    response = Client().get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_changing_the_password_keeps_the_person_signed_in(world):
    client = world.client_for(world.tech)
    response = client.post(
        "/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-longer-passphrase-9",
            "new_password2": "a-much-longer-passphrase-9",
        },
    )
    assert response.status_code == 302
    world.tech.refresh_from_db()
    assert world.tech.check_password("a-much-longer-passphrase-9")
    assert client.get("/").status_code == 200
