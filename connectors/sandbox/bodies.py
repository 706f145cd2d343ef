"""Request bodies by ``Content-Type`` (issue 15 item 3): which media types a vendor parses, and
Rails' nested form parameters.

Each vendor class says how its framework reads a body with a :class:`BodyPolicy`; the app puts
it on the request and :meth:`connectors.sandbox.web.Request.json_body` follows it:

* no ``Content-Type`` (or a JSON one) -> JSON, as before;
* ``application/x-www-form-urlencoded`` / ``multipart/form-data`` -> :func:`rails_params` of the
  fields when ``forms`` is on (Syncro: Rails' ``Rack::QueryParser``);
* any other type -> ``other``: ``"json"`` (parse as JSON anyway: the control plane, so
  ``curl -d '{...}'`` keeps working), ``"ignore"`` (the body is not read: Rails and Express
  leave params empty) or ``"reject"`` (:class:`UnsupportedMediaType`, ASP.NET Web API's 415).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


@dataclass(frozen=True)
class BodyPolicy:
    """How one vendor's framework reads a request body.

    ``json_types``: media types parsed as JSON (``None`` = ``application/json``, ``text/json``
    and any ``+json``); ``forms``: parse form and multipart bodies into Rails params;
    ``other``: ``"json"``, ``"ignore"`` or ``"reject"`` for every other media type.
    """

    json_types: frozenset[str] | None = None
    forms: bool = False
    other: str = "json"

    def is_json(self, mimetype: str) -> bool:
        """True when ``mimetype`` (lowercased, no parameters; ``""`` = none sent) is JSON."""
        if not mimetype:
            return True
        if self.json_types is not None:
            return mimetype in self.json_types
        return mimetype in ("application/json", "text/json") or mimetype.endswith("+json")


class UnsupportedMediaType(Exception):
    """A body whose media type the vendor refuses (answered with the vendor's 415)."""

    def __init__(self, mimetype: str) -> None:
        super().__init__(mimetype)
        self.mimetype = mimetype


_KEY = re.compile(r"\A[\[\]]*([^\[\]]+)\]*")
_ARRAY_CHILD = re.compile(r"\A\[\]\[([^\[\]]+)\]\Z|\A\[\](.+)\Z")


def rails_params(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """Rails/Rack nested params from ``(name, value)`` pairs in body order:
    ``a=1`` -> ``{"a": "1"}`` (a repeated name: the last wins), ``a[]=1&a[]=2`` -> a list,
    ``c[name]=x`` -> ``{"c": {"name": "x"}}`` (any depth), ``l[][s]=1&l[][b]=2&l[][s]=3`` ->
    ``[{"s": "1", "b": "2"}, {"s": "3"}]`` (a new hash when the key repeats), ``l[0][s]=1`` ->
    ``{"l": {"0": {...}}}`` (index hashes stay hashes, as in Rails). Where Rack raises
    ``ParameterTypeError`` (``a=1&a[b]=2``) the first shape is kept and the later pair dropped;
    names without a key (``""``, ``[]``) are dropped. Never raises."""
    params: dict[str, Any] = {}
    for name, value in pairs:
        _normalize(params, str(name), value, 0)
    return params


def _normalize(params: dict[str, Any], name: str, value: Any, depth: int) -> None:
    match = _KEY.match(name)
    if match is None or depth > 32:
        return
    key, after = match.group(1), name[match.end() :]
    if after in ("", "["):
        if after == "[":
            key = name
        if not isinstance(params.get(key), dict | list):
            params[key] = value
        return
    if after == "[]":
        target = params.setdefault(key, [])
        if isinstance(target, list):
            target.append(value)
        return
    child = _ARRAY_CHILD.match(after)
    if child is not None:
        child_key = child.group(1) or child.group(2)
        target = params.setdefault(key, [])
        if not isinstance(target, list):
            return
        if target and isinstance(target[-1], dict) and not _has_key(target[-1], child_key):
            _normalize(target[-1], child_key, value, depth + 1)
        else:
            fresh: dict[str, Any] = {}
            _normalize(fresh, child_key, value, depth + 1)
            target.append(fresh)
        return
    target = params.setdefault(key, {})
    if isinstance(target, dict):
        _normalize(target, after, value, depth + 1)


def _has_key(params: dict[str, Any], name: str) -> bool:
    """Rack's ``params_hash_has_key?``: is the nested path ``name`` (``a[b]``) already set?"""
    node: Any = params
    for part in (p for p in re.split(r"[\[\]]+", name) if p):
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True
