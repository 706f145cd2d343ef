"""Take headless-Chromium screenshots of portal pages (a developer's look-at-it tool).

Usage: python scripts/screenshot.py BASE_URL OUT_DIR EMAIL PASSWORD PATH [PATH ...]
Signs in as EMAIL, then saves one PNG per PATH into OUT_DIR.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> None:
    base, out, email, password, *paths = sys.argv[1:]
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 820})
        page.goto(f"{base}/login/")
        page.screenshot(path=str(out_dir / "login.png"))
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        for path in paths:
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
            name = path.strip("/").replace("/", "_") or "home"
            page.screenshot(path=str(out_dir / f"{name}.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
