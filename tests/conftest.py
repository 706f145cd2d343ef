"""Shared fixtures: a small named world of two tenants and their staff."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from accounts.demo import seed_accounts
from accounts.models import Tenant, User

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    """Demo Field Services with an owner, a billing clerk, a dispatcher and a technician, and
    Other Co with an outsider who must be refused everything of Demo Field Services."""

    tenant: Tenant
    other_tenant: Tenant
    owner: User
    billing: User
    dispatcher: User
    tech: User
    outsider: User

    def client_for(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


@pytest.fixture
def world(db) -> World:
    accounts = seed_accounts(PASSWORD)
    u = accounts.users
    return World(
        tenant=accounts.tenant,
        other_tenant=accounts.other_tenant,
        owner=u["owner"],
        billing=u["billing"],
        dispatcher=u["dispatcher"],
        tech=u["technician"],
        outsider=u["outsider"],
    )
