"""CSP without inline scripts, CSRF header for HTMX, nothing loaded from the internet."""

from __future__ import annotations

import re
from pathlib import Path

from django.test import Client

ROOT = Path(__file__).resolve().parent.parent


def test_pages_send_a_csp_without_unsafe_inline_scripts(world):
    response = world.client_for(world.owner).get("/")
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["object-src"] == "'none'"
    assert directives["base-uri"] == "'none'"


def test_the_page_has_no_inline_script_and_sends_the_csrf_token_through_htmx(world):
    client = world.client_for(world.owner)
    html = client.get("/").content.decode()
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else None
    assert re.search(r"<body hx-headers='\{\"X-CSRFToken\": \"[A-Za-z0-9]+\"\}'>", html)
    assert token is None or len(token) > 10
    for script in re.findall(r"<script[^>]*>", html):
        assert 'src="/static/' in script, script
    assert "htmx" in html


def test_templates_and_static_files_load_nothing_from_the_internet():
    offenders = []
    for path in list((ROOT / "templates").rglob("*.html")) + list((ROOT / "static").rglob("*.css")):
        text = path.read_text()
        if re.search(
            r"""(src|href)=["']https?://|@import\s+url\(["']?https?://|url\(["']?https?://""", text
        ):
            offenders.append(str(path))
    assert offenders == []


def test_signed_in_pages_are_not_cached(world):
    response = world.client_for(world.owner).get("/")
    assert "no-store" in response["Cache-Control"]


def test_state_changing_requests_without_a_csrf_token_are_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.owner)
    assert client.post("/company/", {"name": "X"}).status_code == 403
    assert client.post("/logout/").status_code == 403
