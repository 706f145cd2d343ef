"""Locust users for the load test (scripts/loadtest.py): office staff browsing the portal.

Each user signs in once, then reads the ticket list (random page and filter), ticket details and
the Integrations page; the same pages in the Django admin (the changelist and change page of the
same SyncroTicket model) are requested under their own names as the baseline.
"""

from __future__ import annotations

import os
import random
import re

from locust import HttpUser, between, task

TICKET_IDS = [int(x) for x in os.environ.get("LOAD_TICKET_IDS", "").split(",") if x]
TICKET_PKS = [int(x) for x in os.environ.get("LOAD_TICKET_PKS", "").split(",") if x]
STATUSES = ["New", "In Progress", "Waiting on Customer", "Resolved", "Not Closed"]
WORDS = ["printer", "email", "server", "laptop", "backup", "VPN"]


class Staff(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        page = self.client.get("/login/", name="login form")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        self.client.post(
            "/login/",
            {
                "username": os.environ.get("LOAD_EMAIL", "owner@demo.test"),
                "password": os.environ.get("LOAD_PASSWORD", "fieldline-demo-2026"),
                "csrfmiddlewaretoken": token,
            },
            headers={"Referer": f"{self.host}/login/"},
            name="login",
        )

    @task(4)
    def ticket_list(self) -> None:
        params = {"page": random.randint(1, 200)}
        choice = random.random()
        if choice < 0.3:
            params["status"] = random.choice(STATUSES)
        elif choice < 0.5:
            params["q"] = random.choice(WORDS)
        self.client.get("/tickets/", params=params, name="portal: ticket list")

    @task(3)
    def ticket_detail(self) -> None:
        self.client.get(f"/tickets/{random.choice(TICKET_IDS)}/", name="portal: ticket detail")

    @task(1)
    def integrations(self) -> None:
        self.client.get("/integrations/", name="portal: integrations")

    @task(4)
    def admin_changelist(self) -> None:
        params = {"p": random.randint(0, 199)}
        choice = random.random()
        if choice < 0.3:
            params["status__exact"] = random.choice(STATUSES[:-1])
        elif choice < 0.5:
            params["q"] = random.choice(WORDS)
        self.client.get(
            "/admin/syncro/syncroticket/", params=params, name="admin: ticket changelist"
        )

    @task(3)
    def admin_change(self) -> None:
        self.client.get(
            f"/admin/syncro/syncroticket/{random.choice(TICKET_PKS)}/change/",
            name="admin: ticket change page",
        )
