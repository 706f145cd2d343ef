"""The vendor accounts and credentials the sandbox accepts (the demo's contract with it).

URL layout, under ``settings.SANDBOX_URL`` (default http://127.0.0.1:8765):

* Syncro:      ``{SANDBOX_URL}/syncro/{subdomain}/api/v1/...``  (real: https://{subdomain}.syncromsp.com/api/v1)
* Synchroteam: ``{SANDBOX_URL}/synchroteam/api/v3/...``         (real: https://ws.synchroteam.com/api/v3)
* FieldCamp:   ``{SANDBOX_URL}/fieldcamp/api/v1/...``           (real: https://api.fieldcamp.ai/api/v1)

These tokens are sandbox-only strings, not secrets of any real account.
"""

from __future__ import annotations

from dataclasses import dataclass

SYNCRO_SUBDOMAIN = "demo"


@dataclass(frozen=True)
class SyncroUser:
    """One demo Syncro user: id, name, e-mail, API token, admin flag."""

    user_id: int
    full_name: str
    email: str
    token: str
    admin: bool = False


# Syncro API tokens belong to Syncro users; GET /me answers who (seed /syncro "Attribution rule").
SYNCRO_USERS = [
    SyncroUser(
        1735, "Michael Swanson", "mike@demo-msp.test", "sx-demo-shared-1735-7c1e9a", admin=True
    ),
    SyncroUser(1737, "Winter Reyes", "winter@demo-msp.test", "sx-demo-winter-1737-52d0b4"),
    SyncroUser(1750, "Howard Enos", "howard@demo-msp.test", "sx-demo-howard-1750-e93f21"),
    SyncroUser(1760, "Rob Keller", "rob@demo-msp.test", "sx-demo-rob-1760-0a6c7d"),
]
# Which portal login uses which Syncro token in the demo (the rest fall back to the shared one).
SYNCRO_SHARED_TOKEN_USER_ID = 1735
SYNCRO_PORTAL_TOKENS = {"owner@demo.test": 1737, "billing@demo.test": 1750}

SYNCHROTEAM_DOMAIN = "demofield"
SYNCHROTEAM_API_KEY = "st-demo-key-4b1f0e8d2c"

FIELDCAMP_WORKSPACE = "demo-field-services"
FIELDCAMP_API_KEY = "fc_live_demo_9d2f10c52a0a4f44"
FIELDCAMP_WEBHOOK_SECRET = "whsec_demo_31b9c0e7"
SYNCHROTEAM_WEBHOOK_TOKEN = "stwh_demo_8c1d5e2a"


def syncro_user_by_token(token: str) -> SyncroUser | None:
    """The demo user whose API token is ``token``, or None."""
    return next((u for u in SYNCRO_USERS if u.token == token), None)


def syncro_user_by_id(user_id: int) -> SyncroUser | None:
    """The demo user with Syncro id ``user_id``, or None."""
    return next((u for u in SYNCRO_USERS if u.user_id == user_id), None)
