"""A fuzz test over the whole URLconf (issue 13): no input makes a 500, no response shows a secret.

Every URL pattern of `config.urls` (found with `get_resolver`, recursively, the admin included)
is filled with real ids of Demo Field Services' rows, with Other Co's (foreign) ids, and with
ids nobody has (random UUIDs, zero, huge ints; tests/fuzz_world.py). Two passes:

1. **Sweep**: each pattern, each filling, each person (owner, admin, billing, dispatcher,
   technician, the other company's owner, and for the admin a superuser) GETs and POSTs it
   with no parameters. The pages' field names are collected on the way.
2. **Fuzz**: hypothesis draws, per pattern, a person, a filling, GET or POST, HTMX or not,
   and query strings and form bodies over the pattern's field names and every name the product
   reads: dates far in the past and future (``0001-01-01``, ``9999-12-31``), huge and negative
   numbers, malformed and foreign UUIDs, long and non-ASCII strings, invalid UTF-8 bytes.

Each example runs in a savepoint that is rolled back, so one request's change (a role changed,
the company switched, a draft approved) never changes what the next one sees. The test fails
on any response with a status of 500 or more (listing each distinct one: view, exception, the
product frame that raised it) and on any response holding a stored secret or a canary.

Bounded for CI: ``FUZZ_EXAMPLES`` (default 10) examples per pattern, a quarter of that for the
admin's patterns; ``derandomize=True`` makes every run draw the same examples. It prints the
requests made and the patterns covered.
"""

from __future__ import annotations

import os
import re
import sys
import traceback
import urllib.parse
import uuid
from collections import Counter
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.fuzz_inputs import (
    EXTREMES,
    FIELD_NAME,
    MODES,
    RAW_BYTES,
    params,
    product_keys,
    view_keys,
)
from tests.fuzz_world import HUGE_INTS, admin_object_ids, build_world, secrets_in_db

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.slow]

FUZZ_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
ADMIN_EXAMPLES = max(1, FUZZ_EXAMPLES // 4)

#: patterns left out, with the reason (none: logout runs in a rolled-back savepoint like the rest)
EXCLUDED: dict[str, str] = {}

#: 500s owned by another change of issue 13; counted and printed, not failed on here
KNOWN_ELSEWHERE: dict[str, str] = {}

PEOPLE = ["owner", "admin", "billing", "dispatcher", "technician", "outsider", "anonymous"]
ADMIN_PEOPLE = ["superuser", "owner"]  # the owner is staff: the admin checks its scope


# --- the URLconf -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """One leaf pattern: its full name (or its route when unnamed), the route string with
    ``<conv:name>`` placeholders, the regex alternatives of a regex segment, its converters."""

    name: str
    route: str
    converters: dict
    regex_choices: dict
    callback: object

    @property
    def is_admin(self) -> bool:
        return self.route.startswith("admin/")


_PLACEHOLDER = re.compile(r"<(?:(\w+):)?(\w+)>")


def routes() -> list[Route]:
    """Every leaf URL pattern of the URLconf, recursively."""
    out: list[Route] = []

    def walk(resolver, prefix: str, ns: tuple, converters: dict, regex: dict) -> None:
        for p in resolver.url_patterns:
            conv = {**converters, **getattr(p.pattern, "converters", {})}
            part, rx = str(p.pattern), dict(regex)
            if isinstance(p.pattern, RegexPattern):
                for group, alts in re.findall(r"\(\?P<(\w+)>([^)]*)\)", part):
                    rx[group] = alts.split("|") if "|" in alts else ["x"]
                part = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", part).strip("^$")
            if isinstance(p, URLResolver):
                walk(p, prefix + part, ns + ((p.namespace,) if p.namespace else ()), conv, rx)
            elif isinstance(p, URLPattern):
                route = prefix + part
                name = ":".join(ns + (p.name,)) if p.name else route
                out.append(Route(name, route, conv, rx, p.callback))

    walk(get_resolver(), "", (), {}, {})
    return out


def _junk_for(converter) -> list:
    kind = type(converter).__name__
    if kind == "IntConverter":
        return HUGE_INTS
    if kind == "UUIDConverter":
        return [uuid.UUID(int=0), uuid.UUID("ffffffff-ffff-ffff-ffff-ffffffffffff")]
    return ["x" * 300, "%C3%A9t%C3%A9", "0", "..", "%00"]


def fill(route: Route, values: dict) -> str:
    """The URL of `route` with each placeholder replaced by ``values[name]`` (quoted)."""

    def sub(match: re.Match) -> str:
        value = str(values[match.group(2)])
        return value if value.startswith("%") else urllib.parse.quote(value, safe="")

    return "/" + _PLACEHOLDER.sub(sub, route.route)


def fillings(route: Route, fuzz, admin_ids: dict) -> dict[str, dict[str, list]]:
    """kwarg -> ``{"own": [...], "foreign": [...], "junk": [...]}``: the values tried for it."""
    out = {}
    for _, kwarg in _PLACEHOLDER.findall(route.route):
        if kwarg in route.regex_choices:
            out[kwarg] = {"own": route.regex_choices[kwarg][:4], "foreign": [], "junk": ["nope"]}
            continue
        own, foreign = fuzz.own.get(kwarg, []), fuzz.foreign.get(kwarg, [])
        if kwarg == "object_id":  # admin/<app>/<model>/<object_id>/...
            own = admin_ids.get("_".join(route.route.split("/")[1:3]), [])
        out[kwarg] = {
            "own": own,
            "foreign": foreign,
            "junk": _junk_for(route.converters.get(kwarg)),
        }
    return out


def pick(fill_values: dict, *order: str) -> dict:
    """One value per kwarg: the first of the first non-empty group in `order`."""
    out = {}
    for kwarg, groups in fill_values.items():
        for group in (*order, "own", "foreign", "junk"):
            if groups[group]:
                out[kwarg] = groups[group][0]
                break
    return out


# --- requests --------------------------------------------------------------------------------
@dataclass
class Finding:
    route: str
    method: str
    url: str
    status: int
    exception: str
    where: str


class Fuzzer:
    """Sends requests as each person, in a rolled-back savepoint, and records what went wrong."""

    def __init__(self, fuzz, secrets: list[str]):
        self.fuzz = fuzz
        self.secrets = [s.encode() for s in secrets if len(s) >= 8]
        self.cookies = {}
        for who, user in fuzz.users.items():
            client = Client()
            client.force_login(user)
            self.cookies[who] = client.cookies
        self.requests = 0
        self.statuses: Counter = Counter()
        self.findings: list[Finding] = []
        self.leaks: list[str] = []
        self.keys_seen: dict[str, set] = {}

    def client(self, who: str) -> Client:
        client = Client(raise_request_exception=False)
        if who != "anonymous":
            for morsel in self.cookies[who].values():
                client.cookies[morsel.key] = morsel.value
        return client

    def send(
        self,
        route: Route,
        who: str,
        method: str,
        url: str,
        data=None,
        *,
        htmx=False,
        raw: bytes | None = None,
    ) -> None:
        headers = {"HX-Request": "true"} if htmx else {}
        client = self.client(who)
        with transaction.atomic():
            if method == "GET":
                response = client.get(url, data=data or None, headers=headers)
            elif raw is not None:
                response = client.generic(
                    "POST", url, raw, "application/x-www-form-urlencoded", headers=headers
                )
            else:
                response = client.post(url, data=data or {}, headers=headers)
            transaction.set_rollback(True)
        cache.clear()
        self.requests += 1
        self.statuses[response.status_code // 100] += 1
        body = b"" if response.streaming else response.content
        if response.streaming:  # a download that breaks half-way is a 500 too
            try:
                body = b"".join(response.streaming_content)
            except Exception:  # noqa: BLE001 (recorded, with its traceback)
                response.status_code, response.exc_info = 500, sys.exc_info()
        if response.status_code >= 500:
            self.findings.append(self._finding(route, method, url, data, response))
        for secret in self.secrets:
            if secret in body:
                self.leaks.append(f"{route.name} {method} {url} as {who}: {secret[:12]!r}…")
        if method == "GET" and response.status_code == 200 and not route.is_admin:
            self.keys_seen.setdefault(route.name, set()).update(
                (a or b).decode() for a, b in FIELD_NAME.findall(body)
            )

    def _finding(self, route, method, url, data, response) -> Finding:
        exc_type, exc, tb = response.exc_info or (None, None, None)
        where = ""
        if tb is not None:
            frames = [f for f in traceback.extract_tb(tb) if "site-packages" not in f.filename]
            if frames:
                f = frames[-1]
                where = f"{os.path.relpath(f.filename)}:{f.lineno} {f.name}"
        shown = f"{url} {dict(data or {})}"[:300]
        name = f"{exc_type.__name__}: {str(exc)[:120]}" if exc_type else "(no exception)"
        return Finding(route.name, method, shown, response.status_code, name, where)


def _sweep(fuzzer: Fuzzer, route: Route, fill_values: dict) -> None:
    """GET and POST `route` with no parameters: every person with the tenant's own ids; the
    owner and the other company's owner also with the foreign ids and with nobody's."""
    own = fill(route, pick(fill_values, "own"))
    if route.is_admin:
        for who in ADMIN_PEOPLE:
            fuzzer.send(route, who, "GET", own)
        fuzzer.send(route, "superuser", "POST", own)
        return
    for who in PEOPLE:
        for method in ("GET", "POST"):
            fuzzer.send(route, who, method, own)
    if fill_values:
        for url in {
            fill(route, pick(fill_values, "foreign")),
            fill(route, pick(fill_values, "junk")),
        }:
            for who in ("owner", "outsider"):
                for method in ("GET", "POST"):
                    fuzzer.send(route, who, method, url)


#: one value for every parameter of a route at once, in the boundary pass


def _boundary(fuzzer: Fuzzer, route: Route, fill_values: dict, keys: list[str]) -> None:
    """Every parameter of the route set to one extreme value at once, as the owner: a GET, an
    HTMX GET with the switches (`MODES`) the route reads turned on, and a POST."""
    if route.is_admin or not keys:
        return
    url = fill(route, pick(fill_values, "own"))
    switches = {k: v for k, v in MODES.items() if k in keys}
    for value in EXTREMES:
        data = {k: value for k in keys}
        fuzzer.send(route, "owner", "GET", url, data)
        if switches:
            fuzzer.send(route, "owner", "GET", url, {**data, **switches}, htmx=True)
        fuzzer.send(route, "owner", "POST", url, data)


def _fuzz(
    fuzzer: Fuzzer,
    route: Route,
    fill_values: dict,
    keys: list[str],
    ids: list,
    everywhere: list[str],
) -> None:
    people = ADMIN_PEOPLE if route.is_admin else PEOPLE
    kwargs = {
        k: st.sampled_from([*g["own"], *g["foreign"], *g["junk"]]) for k, g in fill_values.items()
    }

    @hsettings(
        max_examples=ADMIN_EXAMPLES if route.is_admin else FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        who=st.sampled_from(people),
        path=st.fixed_dictionaries(kwargs),
        method=st.sampled_from(["GET", "POST"]),
        htmx=st.booleans(),
        data=params(keys, ids, everywhere),
        raw=st.none() | RAW_BYTES,
    )
    def one(who, path, method, htmx, data, raw):
        url = fill(route, path)
        if raw is not None and method == "GET":
            url += "?" + urllib.parse.quote_from_bytes(raw, safe="=&")
            data = None
        fuzzer.send(route, who, method, url, data, htmx=htmx, raw=raw if method == "POST" else None)

    one()


@pytest.fixture
def fuzz_world(world, settings):
    settings.OUTBOX_ENQUEUE = False
    settings.OUTBOX_VERIFY_DELAY_SECONDS = 0
    settings.OUTBOX_RETRY_DELAY_SECONDS = 0
    settings.WEBHOOK_PROCESS_INLINE = False
    settings.SYNCRO_RATE_BUDGET_PER_MINUTE = 100_000
    settings.SYNCRO_RATE_LIMIT_PER_MINUTE = 100_000
    settings.SYNCRO_WRITE_RESERVE_PER_MINUTE = 10_000
    settings.SYNCRO_TENANT_READ_SHARE_PER_MINUTE = 100_000
    cache.clear()
    fuzz = build_world(world)
    yield fuzz
    fuzz.sandbox.close()
    cache.clear()


def test_no_url_answers_a_500_or_shows_a_secret_whatever_the_input(fuzz_world, settings, capsys):
    settings.DEBUG = True  # a 500 would show the debug page: the canaries must not be on it
    all_routes = [r for r in routes() if r.name not in EXCLUDED]
    fuzzer = Fuzzer(fuzz_world, secrets_in_db())
    admin_ids = admin_object_ids()
    global_keys = product_keys()
    ids = sorted(
        {str(v) for vals in [*fuzz_world.own.values(), *fuzz_world.foreign.values()] for v in vals},
        key=str,
    )
    fills = {r.name: fillings(r, fuzz_world, admin_ids) for r in all_routes}
    for route in all_routes:
        _sweep(fuzzer, route, fills[route.name])
    passes = {"sweep": fuzzer.requests}
    for route in all_routes:
        keys = sorted(fuzzer.keys_seen.get(route.name, set()) | view_keys(route))
        before = fuzzer.requests
        _boundary(fuzzer, route, fills[route.name], [k for k in keys if k != "csrfmiddlewaretoken"])
        passes["boundary"] = passes.get("boundary", 0) + fuzzer.requests - before
        _fuzz(fuzzer, route, fills[route.name], keys, ids, global_keys)

    covered = len(all_routes)
    distinct = Counter((f.route, f.exception.split(":")[0], f.where) for f in fuzzer.findings)
    known = {k: n for k, n in distinct.items() if k[0] in KNOWN_ELSEWHERE}
    failing = {k: n for k, n in distinct.items() if k[0] not in KNOWN_ELSEWHERE}
    report = [
        f"fuzz: {fuzzer.requests} requests over {covered} URL patterns "
        f"({sum(r.is_admin for r in all_routes)} admin), statuses {dict(fuzzer.statuses)}, "
        f"sweep {passes['sweep']}, boundary {passes['boundary']}, "
        f"hypothesis {fuzzer.requests - passes['sweep'] - passes['boundary']}; "
        f"{len(distinct)} distinct 500(s), {len(known)} known elsewhere; {len(fuzzer.leaks)} leak(s)"
    ]
    for (name, exc, where), n in sorted(distinct.items()):
        example = next(
            f
            for f in fuzzer.findings
            if (f.route, f.exception.split(":")[0], f.where) == (name, exc, where)
        )
        report.append(
            f"  {n:4}× {name} {exc} at {where}\n        e.g. {example.method} "
            f"{example.url} -> {example.exception}"
        )
    with capsys.disabled():
        print("\n" + "\n".join(report))
    assert not fuzzer.leaks, "\n".join(fuzzer.leaks[:20])
    assert not failing, "\n".join(report)
