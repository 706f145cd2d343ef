"""Browser tests: Playwright driving Debian's chromium against the live test server.

The vendors are the in-process sandbox; django-q2 runs tasks inline (sync mode), so "Sync now"
and approvals complete within the request that starts them. Screenshots of every step are saved
under ``test-artifacts/e2e/`` (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (scripts/install-browser)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the tests' ORM calls are still
    # plain synchronous code, so Django's async-safety guard is off while the browser is open.
    mp = pytest.MonkeyPatch()
    mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            yield browser
            browser.close()
    finally:
        mp.undo()


@pytest.fixture
def shots(request):
    """`shots(page, name)` saves a full-page screenshot and remembers its path."""
    folder = ARTIFACTS / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []

    def take(page, name: str) -> Path:
        path = folder / f"{len(taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    take.taken = taken
    return take
