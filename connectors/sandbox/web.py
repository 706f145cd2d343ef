"""HTTP types of the sandbox: werkzeug's ``Request`` and ``Response`` with the few additions the
emulators need, the response helpers, and the ``Reply`` / ``BadJSON`` exceptions.

werkzeug (the WSGI toolkit Flask is built on) parses the environ, query string, headers and
body, and writes the response (status line, ``Content-Length``, empty body for ``HEAD``); the
sandbox only adds what routing fills in (``vendor_path``, ``view_args``, ``body_policy``) and its body
rule (an empty body is ``{}``; the vendor's ``BodyPolicy`` says which media types are JSON,
forms or refused, see ``bodies.py``; JSON that does not parse is the vendor's 400).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NoReturn
from urllib.parse import parse_qsl

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request as _WerkzeugRequest
from werkzeug.wrappers import Response

from .bodies import FORM_TYPES, BodyPolicy, UnsupportedMediaType, rails_params

__all__ = [
    "BadJSON",
    "BodyPolicy",
    "Reply",
    "Request",
    "Response",
    "json_response",
    "raw_json_response",
    "reason",
    "text_response",
    "UnsupportedMediaType",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class BadJSON(Exception):
    """The request body is not JSON (answered with the vendor's 400)."""


class Request(_WerkzeugRequest):
    """A werkzeug request as the emulators see it.

    ``path`` is the full decoded path (``/syncro/demo/api/v1/tickets``); ``vendor_path`` is the
    part after the vendor's mount point (``/tickets``, ``/`` at the root) and ``view_args`` the
    values routing captured (``{"sub": "demo", "id": "42"}``), both filled in by the app.
    """

    vendor_path: str
    view_args: dict[str, str]
    body_policy: BodyPolicy

    def __init__(self, environ: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(environ, **kwargs)
        self.vendor_path = self.path
        self.view_args = {}
        self.body_policy = BodyPolicy()

    @property
    def client(self) -> str:
        """The peer address (``REMOTE_ADDR``), ``"unknown"`` when absent (Syncro limits per address)."""
        return self.remote_addr or "unknown"

    @property
    def is_write(self) -> bool:
        """True for every method but GET, HEAD and OPTIONS (what the ledger records)."""
        return self.method not in SAFE_METHODS

    @property
    def body(self) -> bytes:
        """The raw request body (read once, cached)."""
        return self.get_data(cache=True)

    def json_body(self) -> Any:
        """The body's parameters as the vendor's framework reads them (``body_policy``, set by
        the app from the vendor class; see ``bodies.py``): JSON when no ``Content-Type`` or a
        JSON one is sent (:class:`BadJSON` when it does not parse), a dict of Rails nested
        params for a form or multipart body when the policy takes forms, and for any other
        type the JSON anyway, ``{}`` (body not read) or :class:`UnsupportedMediaType`.
        ``{}`` when the body is empty or blank."""
        policy = self.body_policy
        mimetype = self.mimetype
        if not policy.is_json(mimetype):
            if policy.forms and mimetype in FORM_TYPES:
                return self._form_params(mimetype)
            if policy.other == "reject":
                raise UnsupportedMediaType(mimetype)
            if policy.other == "ignore":
                return {}
        if not self.body.strip():
            return {}
        return self.get_json(force=True, cache=True)

    def _form_params(self, mimetype: str) -> dict[str, Any]:
        if mimetype == "multipart/form-data":
            self.body  # noqa: B018 - cache the raw body first (the ledger records it)
            return rails_params(self.form.items(multi=True))
        text = self.body.decode(self.mimetype_params.get("charset") or "utf-8", "replace")
        return rails_params(parse_qsl(text, keep_blank_values=True))

    def on_json_loading_failed(self, e: ValueError | None) -> NoReturn:
        """werkzeug's hook for an unparseable body: raise :class:`BadJSON` (not a 400 page)."""
        raise BadJSON(str(e))

    def args_list(self, name: str) -> list[str]:
        """All values of ``name`` and of Rails-style ``name[]`` in the query string."""
        return self.args.getlist(name) + self.args.getlist(name + "[]")


def reason(status: int) -> str:
    """The standard reason phrase of ``status`` (``"Too Many Requests"``), ``"Status"`` if none."""
    return HTTP_STATUS_CODES.get(status, "Status")


def json_response(obj: Any, status: int = 200, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """``obj`` as compact UTF-8 JSON (``application/json; charset=utf-8``) with ``headers`` added."""
    body = json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(body, status, [("Content-Type", "application/json; charset=utf-8"), *headers])


def raw_json_response(body: str, status: int = 200) -> Response:
    """An already-serialised JSON ``body`` (vendors whose key order or spacing matters)."""
    return Response(body.encode(), status, [("Content-Type", "application/json; charset=utf-8")])


def text_response(
    text: str, status: int, content_type: str = "text/plain; charset=utf-8"
) -> Response:
    """A text body with the given ``Content-Type``."""
    return Response(text.encode(), status, [("Content-Type", content_type)])


class Reply(Exception):
    """Raise from a handler to answer ``response`` (the handler's writes are rolled back)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response
