"""Syncro ``/me`` and ``/users`` (the demo users of ``connectors.sandbox.accounts``)."""

from __future__ import annotations

from connectors.sandbox import accounts
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import (
    Response,
    json_response,
)

from .params import SyncroParams
from .records import (
    not_found,
    to_int,
    user_obj,
)


class UserRoutes(SyncroParams):
    """Mixin of :class:`~.emulator.SyncroSandbox`: ``/me``, ``/users``, ``/users/{id}``."""

    # --- /me, /users ------------------------------------------------------------------------
    @route("GET", "/me")
    def me(self, ctx: Ctx) -> Response:
        """GET /me (spec example): who the token belongs to (seed 001 "Attribution rule")."""
        u: accounts.SyncroUser = ctx.principal
        perms = {"read": True, "write": True, "delete": True}
        return json_response(
            {
                "user_token": u.token,
                "user_email": u.email,
                "user_name": u.full_name,
                "user_id": u.user_id,
                "admin": u.admin,
                "can_use_app": True,
                "two_factor_required": False,
                "subdomain": accounts.SYNCRO_SUBDOMAIN,
                "default_location": None,
                "enable_multi_locations": False,
                "locations_allowed": [],
                "permissions": {
                    "asset": perms,
                    "customer": perms,
                    "ticket": perms,
                    "invoice": perms,
                    "payment": perms,
                    "worksheet": {"add": True, "manage": True, "delete": True},
                    "script": {"execute": True},
                },
            }
        )

    @route("GET", "/users")
    def users(self, ctx: Ctx) -> Response:
        """GET /users: ``{"users": [[id, name], ...]}`` (spec example; no meta)."""
        return json_response({"users": [[u.user_id, u.full_name] for u in accounts.SYNCRO_USERS]})

    @route("GET", "/users/{id}")
    def user_detail(self, ctx: Ctx) -> Response:
        """GET /users/{id}: ``{"user": {...}}``; 404 unless it is a demo user."""
        user = user_obj(to_int(ctx.req.view_args["id"]))
        if user is None:
            raise not_found()
        return json_response({"user": user})
