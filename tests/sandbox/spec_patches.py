"""The official Syncro OpenAPI spec, loaded through a short list of documented corrections.

The spec file (``connectors/sandbox/specs/syncro-openapi.json``, a verbatim copy of
``/work/shared/reference/specs/syncro-openapi.json``; provenance in ``specs/PROVENANCE.md``) is
never edited: :func:`patched_spec` reads it and applies :data:`PATCHES` in order, each a
function ``(spec dict) -> None`` that changes the dict in place and says why in its docstring.
``tests/sandbox/test_schemathesis.py`` checks that every patch still changes something (a
patch the upstream file no longer needs fails the run) and that the patched spec passes the
OpenAPI 3.0 meta-schema (``openapi-spec-validator``), which the raw file does not.

:func:`derive_example_schemas` is not a correction: most operations document their responses
with an *example* only, so it derives a loose JSON schema from each example (the contract
test's rule, ``tests/sandbox/test_contract.py`` ``schema_from_example``) so that schemathesis's
``response_schema_conformance`` has something to check.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import connectors.sandbox

SPEC_FILE = Path(connectors.sandbox.__file__).parent / "specs" / "syncro-openapi.json"

Spec = dict[str, Any]


def _operations(spec: Spec) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if isinstance(op, dict) and method != "parameters":
                yield path, method, op


def _media(spec: Spec) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """``(path, method, status, media object)`` of every response content entry."""
    for path, method, op in _operations(spec):
        for status, resp in op.get("responses", {}).items():
            for media in resp.get("content", {}).values():
                yield path, method, status, media


def fix_ticket_timers_path(spec: Spec) -> bool:
    """``PATCH ticket_timers/{id}`` lacks its leading slash (every other path has one, and
    OpenAPI requires it); the vendor's URL is ``/ticket_timers/{id}`` (vendor-apis.md §1.6)."""
    if "ticket_timers/{id}" not in spec["paths"]:
        return False
    spec["paths"]["/ticket_timers/{id}"] = spec["paths"].pop("ticket_timers/{id}")
    return True


def fix_security_scheme(spec: Spec) -> bool:
    """``bearerAuth`` is ``type: apiKey`` with ``scheme: bearer`` (``scheme`` belongs to
    ``type: http``), and ``GET /callerid`` names an ``apiKey`` scheme that does not exist.
    Syncro takes the token as ``Authorization: Bearer`` or as ``?api_key=`` (vendor-apis.md
    §1.2); the run authenticates with ``?api_key=``, so both schemes become that query key
    (schemathesis then generates no ``Authorization`` header, which would win over the key)."""
    schemes = spec["components"]["securitySchemes"]
    if schemes.get("bearerAuth", {}).get("type") != "apiKey" or "scheme" not in schemes.get(
        "bearerAuth", {}
    ):
        return False
    query_key = {"type": "apiKey", "in": "query", "name": "api_key"}
    schemes["bearerAuth"] = dict(query_key)
    schemes["apiKey"] = dict(query_key)
    return True


def fix_customer_asset_schemas(spec: Spec) -> bool:
    """``GET``/``PUT /customer_assets/{id}`` nest a whole schema *inside* ``properties``
    (``properties: {type: object, properties: {...}}``), so ``type`` and ``properties`` read as
    field names, and inside that the asset's own ``properties`` field (its custom-field map) is
    again spelled as a flattened schema next to a stray ``type: object`` string. The intended
    object is the inner one, with ``properties`` a free-form object."""
    changed = False
    for path, _method, op in _operations(spec):
        if path != "/customer_assets/{id}":
            continue
        for media in op.get("responses", {}).get("200", {}).get("content", {}).values():
            outer = media.get("schema", {}).get("properties", {})
            if outer.get("type") != "object" or not isinstance(outer.get("properties"), dict):
                continue
            fields = {k: v for k, v in outer["properties"].items() if isinstance(v, dict)}
            fields["properties"] = {"type": "object", "nullable": True}
            media["schema"] = {"type": "object", "properties": fields}
            changed = True
    return changed


def fix_type_lists(spec: Spec) -> bool:
    """``type: [X, "null"]`` is JSON Schema 2019+/OpenAPI 3.1; in OpenAPI 3.0 (this spec's
    version) ``type`` is one string and null is ``nullable: true``. ``["null"]`` alone (null
    only) becomes ``nullable: true`` with no type."""
    changed = False

    def walk(node: Any) -> None:
        nonlocal changed
        if isinstance(node, dict):
            kind = node.get("type")
            if isinstance(kind, list):
                rest = [t for t in kind if t != "null"]
                if rest:
                    node["type"] = rest[0]
                else:
                    node.pop("type")
                if "null" in kind:
                    node["nullable"] = True
                changed = True
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec["paths"])
    return changed


def fix_misplaced_parameter_keywords(spec: Spec) -> bool:
    """Schema keywords written on the parameter object instead of in its ``schema``: the
    date filters of ``GET /tickets/{id}/comments`` (``format: date-time``) and ``ids`` of
    ``GET /customer_assets/chat_information_by_ids`` (``items: {type: integer}``)."""
    changed = False
    for _path, _method, op in _operations(spec):
        for param in op.get("parameters", []):
            for keyword in ("format", "items"):
                if keyword in param:
                    param.setdefault("schema", {})[keyword] = param.pop(keyword)
                    changed = True
    return changed


def fix_empty_items(spec: Spec) -> bool:
    """``rmm_links: {type: array, items: []}`` (``/customer_assets/{id}``): ``items`` must be
    a schema; ``[]`` meant "any item", which is ``{}``."""
    changed = False

    def walk(node: Any) -> None:
        nonlocal changed
        if isinstance(node, dict):
            if node.get("items") == []:
                node["items"] = {}
                changed = True
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec["paths"])
    return changed


def fix_boolean_defaults_on_strings(spec: Spec) -> bool:
    """``include_disabled`` (``GET /customers``) is ``type: string`` with ``default: false``;
    a query string carries ``"false"``."""
    changed = False
    for _path, _method, op in _operations(spec):
        for param in op.get("parameters", []):
            schema = param.get("schema", {})
            if schema.get("type") == "string" and isinstance(schema.get("default"), bool):
                schema["default"] = str(schema["default"]).lower()
                changed = True
    return changed


def fix_wildcard_json_media(spec: Spec) -> bool:
    """Several JSON answers (``GET /contacts/{id}``, ``/vendors/{id}``, ...) declare ``*/*``;
    the API answers ``application/json`` (vendor-apis.md §1.8), and a ``*/*`` media type makes
    schemathesis skip the body."""
    changed = False
    for _path, _method, op in _operations(spec):
        for resp in op.get("responses", {}).values():
            content = resp.get("content", {})
            if "*/*" in content and "application/json" not in content:
                content["application/json"] = content.pop("*/*")
                changed = True
    return changed


PATCHES: list[Callable[[Spec], bool]] = [
    fix_ticket_timers_path,
    fix_security_scheme,
    fix_customer_asset_schemas,
    fix_type_lists,
    fix_misplaced_parameter_keywords,
    fix_empty_items,
    fix_boolean_defaults_on_strings,
    fix_wildcard_json_media,
]


def raw_spec() -> Spec:
    """The spec file as it is (a fresh dict)."""
    return json.loads(SPEC_FILE.read_text())


def patched_spec() -> tuple[Spec, dict[str, bool]]:
    """``(spec with every patch applied, {patch name: whether it changed anything})``."""
    spec = raw_spec()
    applied = {patch.__name__: patch(spec) for patch in PATCHES}
    return spec, applied


def derive_example_schemas(spec: Spec, schema_from_example: Callable[[Any], dict]) -> int:
    """Give every response content that has an example but no schema the schema
    ``schema_from_example(example)`` derives (``tests/sandbox/test_contract.py``: example keys
    required, values typed as in the example, nested values nullable). Returns how many."""
    count = 0
    for _path, _method, _status, media in _media(spec):
        if "schema" in media:
            continue
        example = media.get("example")
        if example is None and media.get("examples"):
            example = next(iter(media["examples"].values())).get("value")
        if isinstance(example, dict | list):
            media["schema"] = schema_from_example(example)
            count += 1
    return count
