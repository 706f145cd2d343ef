"""Steps the browser tests share."""

from __future__ import annotations


def sign_in(page, base: str, email: str, *, password: str) -> None:
    """Sign in on ``base``'s login page as ``email`` and wait for the home page."""
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
