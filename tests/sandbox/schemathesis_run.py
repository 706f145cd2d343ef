"""Drive schemathesis over the Syncro emulator, in process, and collect what it finds.

Used by ``tests/sandbox/test_schemathesis.py``. The spec is the official one through
``spec_patches`` (plus schemas derived from its examples); the operations are every GET in it
and the POST/PUT operations the portal uses (:data:`PORTAL_WRITES`). Each operation gets
``examples`` schemathesis cases (hypothesis, derandomized so two runs find the same cases);
half the ``{id}``-like path parameters are replaced with ids of real records so detail routes
answer 200 as well as 404. Every request goes through the sandbox's WSGI app with
``?api_key=<the demo shared token>`` (``connectors/sandbox/accounts.py``).

Per case, on an *emulated* operation (its method and path are in the emulator's route table)
the checks are schemathesis's ``not_a_server_error``, ``status_code_conformance`` and
``response_schema_conformance``; on an operation the sandbox does not emulate, the answer must
be a 404 that is not a server error, and (check ``unknown_route``) not the missing-record body
``{"message": "Not found"}`` (issue 15 item 5). An exception out of the app is recorded as
``dropped_connection``: the loopback server (``server.py``) would close the socket with no
answer.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from connectors.sandbox import accounts

from .spec_patches import derive_example_schemas, patched_spec

BASE_URL = "http://sandbox.invalid/syncro/demo/api/v1"
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
MISSING_RECORD_BODY = b'{"message":"Not found"}'

# The POST/PUT operations the portal (or its runbook) sends: billing writes, ticket edits,
# contacts and customers. (issue 15 "Build")
PORTAL_WRITES = [
    ("POST", "/tickets"),
    ("PUT", "/tickets/{id}"),
    ("POST", "/tickets/{id}/comment"),
    ("POST", "/tickets/{id}/add_line_item"),
    ("POST", "/tickets/{id}/timer_entry"),
    ("POST", "/tickets/{id}/charge_timer_entry"),
    ("POST", "/invoices"),
    ("POST", "/invoices/{id}/line_items"),
    ("POST", "/contacts"),
    ("PUT", "/contacts/{id}"),
    ("POST", "/customers"),
    ("PUT", "/customers/{id}"),
]

# Which real ids a path parameter may take, by the path's first segment (or the parameter's
# own name for nested ``{customer_id}`` / ``{product_id}`` / ``{ticket_id}``).
ID_SOURCES = {
    "tickets": ("/tickets", "tickets"),
    "customers": ("/customers", "customers"),
    "contacts": ("/contacts", "contacts"),
    "invoices": ("/invoices", "invoices"),
    "products": ("/products", "products"),
    "ticket_timers": ("/ticket_timers", "ticket_timers"),
    "users": ("/users", "users"),
}

# Body keys that name a record, and where their real ids come from.
BODY_IDS = {
    "customer_id": "customers",
    "ticket_id": "tickets",
    "timer_entry_id": "ticket_timers",
    "contact_id": "contacts",
}


def normalise(pattern: str) -> str:
    """``/tickets/{ticket_id}/x`` -> ``/tickets/{}/x``: compare spec paths with routes."""
    return re.sub(r"\{[^}]+\}", "{}", pattern)


def emulated_routes(vendor_class: Any) -> set[tuple[str, str]]:
    """``{(METHOD, normalised pattern)}`` of a Vendor class's route table."""
    return {(m, normalise(p)) for m, p, _endpoint in vendor_class._route_table}


@dataclass
class OpResult:
    """One operation's run: cases sent, status codes seen, every failure's description by
    check name, and whether the sandbox emulates it."""

    method: str
    path: str
    emulated: bool
    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: dict[str, list[str]] = field(default_factory=dict)
    failure_counts: Counter = field(default_factory=Counter)

    def fail(self, check: str, detail: str) -> None:
        """Record one failed ``check`` with the case's description."""
        self.failure_counts[check] += 1
        self.failures.setdefault(check, []).append(detail)


def _body(case: Any) -> str:
    return "-" if isinstance(case.body, NotSet) else str(case.body)[:120]


def _describe(case: Any, status: int | str, text: str) -> str:
    return (
        f"{case.method} {case.formatted_path} query={case.query or {}} "
        f"body={_body(case)} -> {status}: {text.strip()[:3000]}"
    )


def real_ids(sandbox: Any) -> dict[str, list[int]]:
    """A few real ids per resource (``ID_SOURCES``), read through the emulator itself."""
    client = sandbox.client("syncro", auth="query")
    ids: dict[str, list[int]] = {}
    for name, (path, key) in ID_SOURCES.items():
        rows = client.get(path).json().get(key, [])
        ids[name] = [r[0] if isinstance(r, list) else r["id"] for r in rows[:5]]
    client.close()
    return ids


def _id_for(path: str, param: str, ids: dict[str, list[int]]) -> list[int]:
    if param.endswith("_id") and param[:-3] + "s" in ids:
        return ids[param[:-3] + "s"]
    return ids.get(path.strip("/").split("/")[0], [])


def run(
    sandbox: Any, *, examples: int, vendor_class: Any, server_url: str | None = None
) -> dict[tuple[str, str], OpResult]:
    """Run schemathesis over every GET and :data:`PORTAL_WRITES` of the patched spec against
    ``sandbox``, in process, or over loopback HTTP when ``server_url`` (``http://host:port``
    of ``connectors.sandbox.server``) is given; ``{(METHOD, spec path): OpResult}``."""
    spec, _applied = patched_spec()
    from .test_contract import schema_from_example

    derive_example_schemas(spec, schema_from_example)
    schema = schemathesis.openapi.from_dict(spec)
    schema.config.update(base_url=BASE_URL)
    token = accounts.syncro_user_by_id(accounts.SYNCRO_SHARED_TOKEN_USER_ID).token
    routes = emulated_routes(vendor_class)
    ids = real_ids(sandbox)
    wanted = set(PORTAL_WRITES)
    results: dict[tuple[str, str], OpResult] = {}
    for outcome in schema.get_all_operations():
        op = outcome.ok()
        key = (op.method.upper(), op.path)
        if key[0] != "GET" and key not in wanted:
            continue
        result = results[key] = OpResult(*key, emulated=(key[0], normalise(key[1])) in routes)
        id_params = {p: _id_for(op.path, p, ids) for p in re.findall(r"\{([^}]+)\}", op.path)}
        strategy = st.tuples(
            op.as_strategy(),
            st.fixed_dictionaries(
                {p: st.sampled_from([None, *v]) for p, v in id_params.items() if v}
            ),
            st.fixed_dictionaries(
                {k: st.sampled_from([None, *ids[src]]) for k, src in BODY_IDS.items() if ids[src]}
            ),
        )

        runner = given(strategy)(
            settings(
                max_examples=examples,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate],
            )(_case_runner(sandbox, token, result, server_url))
        )
        runner()
    return results


def _case_runner(sandbox: Any, token: str, result: OpResult, server_url: str | None) -> Any:
    def one_case(drawn: tuple[Any, dict[str, int | None], dict[str, int | None]]) -> None:
        case, real, body_ids = drawn
        for name, value in real.items():
            if value is not None:
                case.path_parameters[name] = value
        if isinstance(case.body, dict):
            for name, value in body_ids.items():
                if value is not None and name in case.body:
                    case.body[name] = value
        _send(sandbox, case, token, result, server_url)

    return one_case


def _send(sandbox: Any, case: Any, token: str, result: OpResult, server_url: str | None) -> None:
    result.cases += 1
    where: dict[str, Any] = {"app": sandbox.app}
    if server_url:
        where = {"base_url": server_url + BASE_URL.split("sandbox.invalid", 1)[1], "timeout": 10}
    try:
        # the security scheme is the api_key query key (spec_patches): replace what
        # schemathesis generated for it with the demo token
        case.query = {**(case.query or {}), "api_key": token}
        response = case.call(**where)
    except Exception as exc:  # in process: the app raised; loopback: the socket was dropped
        result.statuses["dropped"] += 1
        result.fail("dropped_connection", _describe(case, "no answer", repr(exc)))
        return
    status = response.status_code
    result.statuses[status] += 1
    checks = CHECKS if result.emulated else [not_a_server_error]
    try:
        case.validate_response(response, checks=checks)
    except FailureGroup as group:
        for failure in group.exceptions:
            name = getattr(failure, "check_name", None) or _check_name(failure)
            result.fail(name, _describe(case, status, f"{failure.title}: {failure.message}"))
    if not result.emulated:
        if status != 404:
            result.fail("not_emulated_answers_404", _describe(case, status, response.text))
        elif response.content.strip() == MISSING_RECORD_BODY:
            result.fail("unknown_route", _describe(case, status, response.text))


def _check_name(failure: Any) -> str:
    """Map a schemathesis failure class to the check that raised it."""
    kind = type(failure).__name__
    return {
        "ServerError": "not_a_server_error",
        "UndefinedStatusCode": "status_code_conformance",
        "JsonSchemaError": "response_schema_conformance",
        "MalformedJson": "response_schema_conformance",
        "MissingContentType": "response_schema_conformance",
    }.get(kind, kind)
