"""The sandbox's fidelity table (docs/sandbox.md, section "Fidelity"), generated so it stays true.

Usage (from the project root):
    python scripts/fidelity_table.py            # print the section
    python scripts/fidelity_table.py --write    # rewrite it in docs/sandbox.md
    python scripts/fidelity_table.py --check    # exit 1 if docs/sandbox.md is out of date

Rows:
* Syncro: one per path of the official spec (``connectors/sandbox/specs/syncro-openapi.json``),
  its operations marked emulated or not from the emulator's route table
  (``Vendor._route_table``), plus any emulated route the spec lacks; quirks and sources of the
  emulated operations from :data:`SYNCRO_QUIRKS`.
* Synchroteam and FieldCamp: one per endpoint listed in ``reference/vendor-apis.md`` (§2.3,
  §3.1-3.7), in :data:`SYNCHROTEAM` / :data:`FIELDCAMP`; emulated when the emulator's URL map
  answers the path (for Synchroteam's generic ``{resource}/verb`` routes: when the resource is
  one the emulator serves).

The section is the text between the ``<!-- fidelity:begin -->`` and ``<!-- fidelity:end -->``
markers; ``tests/sandbox/test_fidelity_table.py`` fails when it differs from :func:`render`.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "sandbox.md"
BEGIN, END = "<!-- fidelity:begin -->", "<!-- fidelity:end -->"
VA = "vendor-apis.md"

# (METHOD, spec path) -> (quirks the emulator reproduces, source). Sources: "spec" (the
# operation's own text/examples), vendor-apis.md sections, "live: <public client>" for
# behaviour a public client observed against a live tenant.
SYNCRO_QUIRKS: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/me"): ("user of the token, permissions", f"spec; {VA} §1.6"),
    ("GET", "/users"): ("`[[id, name]]` pairs", f"spec; {VA} §1.4"),
    ("GET", "/users/{id}"): ("wrapped `{user}`", "spec"),
    ("GET", "/tickets"): (
        "50 per page, meta `{total_pages, page}`; `since_updated_at` strict; `Not Closed`; only "
        "the initial comment unless `all_comments=true`",
        f"spec; {VA} §1.4, §1.5; live: advenimus/syncromsp-mcp",
    ),
    ("POST", "/tickets"): (
        "422 `{error: Customer required field}`; `line_items` ignored",
        f"spec; {VA} §1.9 (live: advenimus/syncromsp-mcp)",
    ),
    ("PUT", "/tickets/{id}"): ("blank subject 422 `{success: false, message}`", "spec"),
    ("GET", "/tickets/settings"): ("statuses, types, default labor product", "spec"),
    ("GET", "/tickets/{id}/comments"): (
        "10 per page, `per_page`, date filters, `sort_by`/`sort_direction`",
        f"spec; {VA} §1.5",
    ),
    ("POST", "/tickets/{id}/comment"): (
        "needs top-level `subject` and `body` (422 otherwise)",
        f"{VA} §1.9 (live: advenimus/syncromsp-mcp)",
    ),
    ("POST", "/tickets/{id}/add_line_item"): (
        "needs `name` and `description`; flat answer, `quantity` a string",
        f"{VA} §1.9 (live: advenimus/syncromsp-mcp)",
    ),
    ("PUT", "/tickets/{id}/update_line_item"): ("wrapped `{ticket_line_item}`", f"{VA} §1.9"),
    ("POST", "/tickets/{id}/timer_entry"): (
        "no `start_at` -> 422 `no implicit conversion of nil into String`; `duration_minutes` "
        "computes the end; default labor product",
        f"{VA} §1.9 (live: advenimus/syncromsp-mcp)",
    ),
    ("PUT", "/tickets/{id}/update_timer_entry"): (
        "`duration_minutes` ignored",
        f"{VA} §1.9 (live: advenimus/syncromsp-mcp)",
    ),
    ("POST", "/tickets/{id}/charge_timer_entry"): (
        "charging twice = two line items",
        f"{VA} §1.9 (live: advenimus/syncromsp-mcp)",
    ),
    ("GET", "/ticket_timers"): (
        "100 per page",
        f"{VA} §1.4 (live: advenimus/syncromsp-mcp)",
    ),
    ("PATCH", "/ticket_timers/{id}"): ("`?billable=` only, 422 otherwise", "spec"),
    ("GET", "/invoices"): ("25 per page; `since_updated_at`, `paid`, `unpaid`", f"spec; {VA} §1.5"),
    ("POST", "/invoices"): (
        "copies the ticket's line items, body `line_items` ignored",
        f"{VA} §1.9 (live: advenimus/syncromsp-mcp)",
    ),
    ("GET", "/invoices/{id}"): ("by id or number; wrapped `{invoice}` (deviation)", "spec"),
    ("GET", "/line_items"): ("full meta", f"spec; {VA} §1.4"),
    ("GET", "/customers"): ("100 per page, full meta; `id[]`, `not_id[]`", f"spec; {VA} §1.4"),
    ("PUT", "/customers/{id}"): ("answers with `contacts`", "spec example"),
    ("POST", "/customers"): ("422 `{success: false, message, params}`", "spec"),
    ("GET", "/contacts"): ("50 per page, full meta", f"spec; {VA} §1.4"),
    ("GET", "/contacts/{id}"): ("flat (no wrapper)", "spec schema"),
    ("POST", "/contacts"): ("422 `{record, errors}`; unknown customer 404", "spec"),
    ("GET", "/products"): ("25 per page, no meta", f"spec; {VA} §1.4"),
}

# Synchroteam endpoints of vendor-apis.md §2.3: (METHOD, path, what the sources say, source).
SYNCHROTEAM: list[tuple[str, str, str, str]] = [
    (
        "GET",
        "/job/list",
        "`page`/`pageSize` (25, max 100), `recordsTotal`+`data`; `status`, `dateFrom`/`dateTo`, `validatedSince`",
        f"{VA} §2.3-2.5; synchroteam-py, Java client, ief_lib",
    ),
    ("GET", "/job/details", "by `id`, `num` or `myId`", f"{VA} §2.3; synchroteam-py, Java client"),
    ("POST", "/job/send", "no `id` = create, `id` = partial update", f"{VA} §2.3; ief_lib"),
    (
        "POST",
        "/job/schedule",
        "needs both `scheduledStart`/`scheduledEnd`, `YYYY-MM-DD HH:MM:SS`",
        f"{VA} §2.3; ief_lib",
    ),
    ("POST", "/job/unschedule", "`{id}`", f"{VA} §2.3; ief_lib"),
    ("DELETE", "/job/delete", "by `id`, `num` or `myId`", f"{VA} §2.3; synchroteam-py, BenN182"),
    ("GET", "/job/photos", "`{jobPhoto: [...]}`", f"{VA} §2.3; synchroteam-py"),
    (
        "POST",
        "/job/parts/send",
        "`{myId, parts: [{reference, quantity}]}`",
        f"{VA} §2.3; Java client",
    ),
    ("GET", "/jobtype/list", "", f"{VA} §2.3; synchroteam-py"),
    ("GET", "/job/types", "unverified", f"{VA} §2.3; a Streamlit app"),
    (
        "GET",
        "/jobReport/details",
        "by `id`/`num`/`myId`; 404 without a report",
        f"{VA} §2.3; synchroteam-py",
    ),
    ("GET", "/customer/list", "paged as jobs", f"{VA} §2.3; synchroteam-py, BenN182, TS client"),
    ("POST", "/customer/list", "", f"{VA} §2.3"),
    ("GET", "/customer/details", "by `id`, `myId`, `num`, `name`", f"{VA} §2.3"),
    ("POST", "/customer/send", "upsert", f"{VA} §2.3; BenN182"),
    ("GET", "/site/list", "`search` does not filter", f"{VA} §2.3, §2.5; ief_lib"),
    ("POST", "/site/list", "", f"{VA} §2.3"),
    ("GET", "/site/details", "by `name`; has `customer.id`", f"{VA} §2.3; ief_lib"),
    ("POST", "/site/send", "`{myId, name, address, customer: {id}}`", f"{VA} §2.3; BenN182"),
    ("GET", "/equipment/list", "", f"{VA} §2.3"),
    ("POST", "/equipment/list", "", f"{VA} §2.3"),
    (
        "GET",
        "/equipment/details",
        "by `id` or `myId` (serial number)",
        f"{VA} §2.3; synchroteam-py",
    ),
    ("POST", "/equipment/send", "`{name, site: {id}, customer: {id}}`", f"{VA} §2.3; BenN182"),
    ("GET", "/user/list", "", f"{VA} §2.3"),
    ("POST", "/user/list", "", f"{VA} §2.3"),
    ("GET", "/user/details", "`customFieldValues [{label, value}]`", f"{VA} §2.3; Java client"),
    ("GET", "/invoice/list", "`status`", f"{VA} §2.3; Java client"),
    ("GET", "/invoice/details", "`job.id`", f"{VA} §2.3; Java client"),
    ("POST", "/part/send", "part or service, tax", f"{VA} §2.3; Java client"),
    ("POST", "/customfield/list", "GET answers 405", f"{VA} §2.3; TS client"),
    ("GET", "/contract/list", "", f"{VA} §2.3; TS client"),
]

# FieldCamp v1 endpoints of vendor-apis.md §3.1-3.7 (paths under /api/v1).
FIELDCAMP: list[tuple[str, str, str, str]] = [
    ("POST", "/integrations/google-calendar/sync", "202 job; 409 while one runs", f"{VA} §3.5"),
    (
        "GET",
        "/integrations/google-calendar/sync",
        "changes since the last successful run",
        f"{VA} §3.5",
    ),
    ("GET", "/integrations/google-calendar/status", "connection and sync state", f"{VA} §3.5"),
    ("POST", "/integrations/outlook-calendar/sync", "", f"{VA} §3.5"),
    (
        "POST",
        "/integrations/quickbooks/sync",
        "`INTEGRATION_NOT_CONNECTED` until connected",
        f"{VA} §3.3, §3.5",
    ),
    ("POST", "/jobs", "no idempotency keys; 409 on a duplicate `jobNumber`", f"{VA} §3.2, §3.6"),
    ("GET", "/jobs", "server-side filters incl. `jobNumber`", f"{VA} §3.2, §3.6"),
    ("POST", "/visits", "multi-stop or explicit visits", f"{VA} §3.6"),
    ("GET", "/visits", "`visitStatus` (8 states, repeatable)", f"{VA} §3.6"),
    (
        "GET",
        "/invoices",
        "`clientId`, `status`, `since`; unpaid/paid/partial/overdue",
        f"{VA} §3.6",
    ),
    ("POST", "/invoices", "create", f"{VA} §3.6"),
    ("GET", "/invoices/{id}/payment-link", "hosted Stripe checkout URL", f"{VA} §3.6"),
    ("POST", "/webhooks", "signed deliveries, 20 event types", f"{VA} §3.7"),
    ("GET", "/api-keys", "scoped keys", f"{VA} §3.1"),
]


def _norm(pattern: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", pattern)


if str(ROOT) not in sys.path:  # run as a script: import the project's packages
    sys.path.insert(0, str(ROOT))


def _vendor(name: str):
    from connectors.sandbox import registry

    registry.load()
    return registry.vendor_class(name)


def _answers(cls, method: str, path: str) -> bool:
    """True when the emulator class's URL map routes ``method path`` to a handler that serves
    it (a generic Synchroteam resource route only for a resource it knows)."""
    from werkzeug.exceptions import HTTPException

    urls = cls._url_map.bind("sandbox.invalid")
    concrete = re.sub(r"\{[^}]+\}", "1", path)
    try:
        endpoint, args = urls.match(concrete.lower() if cls.case_insensitive else concrete, method)
    except HTTPException:
        return False
    if "resource" in args:
        from connectors.sandbox.synchroteam.resources import RESOURCES

        return args["resource"] in RESOURCES
    return bool(endpoint)


def _mark(emulated: bool) -> str:
    return "yes" if emulated else "no"


def syncro_rows() -> tuple[list[str], dict[str, int]]:
    """Markdown rows (one per spec path, plus emulated routes the spec lacks) and counts."""
    from tests.sandbox.spec_patches import patched_spec

    spec, _ = patched_spec()
    routes = {(m, _norm(p)) for m, p, _e in _vendor("syncro")._route_table}
    unknown = sorted(k for k in SYNCRO_QUIRKS if (k[0], _norm(k[1])) not in routes)
    if unknown:
        raise SystemExit(f"SYNCRO_QUIRKS names routes the emulator lacks: {unknown}")
    rows, counts, seen = [], {"documented": 0, "emulated": 0, "quirks": 0}, set()
    for path, ops in spec["paths"].items():
        marks, quirks, sources = [], [], []
        for method in ops:
            key = (method.upper(), path)
            emulated = (key[0], _norm(path)) in routes
            seen.add((key[0], _norm(path)))
            counts["documented"] += 1
            counts["emulated"] += emulated
            marks.append(f"{key[0]} {'✓' if emulated else '–'}")
            if key in SYNCRO_QUIRKS:
                counts["quirks"] += 1
                quirks.append(f"{key[0]}: {SYNCRO_QUIRKS[key][0]}")
                sources.append(SYNCRO_QUIRKS[key][1])
        tags = ", ".join(next(iter(ops.values())).get("tags", []))
        source = "; ".join(dict.fromkeys(sources)) or f"spec ({tags})"
        rows.append(f"| `{path}` | {' · '.join(marks)} | {'; '.join(quirks)} | {source} |")
    for method, pattern in sorted(routes - seen):
        rows.append(f"| `{pattern}` | {method} ✓ (not in the spec) | | sandbox only |")
    return rows, counts


def vendor_rows(name: str, table: list[tuple[str, str, str, str]]) -> tuple[list[str], dict]:
    """Markdown rows and counts for a vendor whose endpoints come from vendor-apis.md."""
    cls = _vendor(name)
    rows, counts = [], {"documented": 0, "emulated": 0, "quirks": 0}
    for method, path, quirks, source in table:
        emulated = _answers(cls, method, path)
        counts["documented"] += 1
        counts["emulated"] += emulated
        counts["quirks"] += bool(emulated and quirks)
        shown = quirks if emulated else (f"(documented: {quirks})" if quirks else "")
        rows.append(f"| `{method} {path}` | {_mark(emulated)} | {shown} | {source} |")
    for method, pattern, source in _extra_routes(cls, table):
        rows.append(f"| `{method} {pattern}` | yes (not listed) | | {source} |")
    return rows, counts


def _extra_routes(cls, table: list[tuple[str, str, str, str]]) -> list[tuple[str, str, str]]:
    """Emulated ``(METHOD, pattern)`` no listed endpoint reaches (a generic Synchroteam
    ``{resource}/verb`` route: once per resource no row names)."""
    from werkzeug.exceptions import HTTPException

    urls = cls._url_map.bind("sandbox.invalid")
    reached: set[tuple[str, str]] = set()
    for method, path, _q, _s in table:
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        try:
            endpoint, args = urls.match(
                concrete.lower() if cls.case_insensitive else concrete, method
            )
        except HTTPException:
            continue
        reached.add((method, endpoint if "resource" not in args else args["resource"] + endpoint))
    extra = []
    for method, pattern, endpoint in sorted(cls._route_table, key=lambda r: (r[1], r[0])):
        if "{resource}" in pattern:
            from connectors.sandbox.synchroteam.resources import RESOURCES

            for name in sorted(RESOURCES):
                if (method, name + endpoint) not in reached:
                    generic = f"{VA} §2.3: the `<resource>/verb` pattern (inferred)"
                    extra.append((method, pattern.replace("{resource}", name), generic))
        elif (method, endpoint) not in reached:
            extra.append((method, pattern, "sandbox only"))
    return extra


def render() -> str:
    """The whole generated section, markers included."""
    syncro, sc = syncro_rows()
    team, tc = vendor_rows("synchroteam", SYNCHROTEAM)
    camp, fc = vendor_rows("fieldcamp", FIELDCAMP)

    def count_line(vendor: str, c: dict[str, int], unit: str) -> str:
        return (
            f"| {vendor} | {c['documented']} {unit} | {c['emulated']} | "
            f"{c['documented'] - c['emulated']} | {c['quirks']} |"
        )

    lines = [
        BEGIN,
        "<!-- generated by scripts/fidelity_table.py --write; do not edit by hand -->",
        "",
        "| vendor | documented | emulated | not emulated | emulated with quirk notes |",
        "|---|---:|---:|---:|---:|",
        count_line("Syncro (spec operations)", sc, "operations"),
        count_line("Synchroteam (vendor-apis.md §2.3)", tc, "endpoints"),
        count_line("FieldCamp v1 (vendor-apis.md §3)", fc, "endpoints"),
        "",
        "#### Syncro (every path of the official spec; ✓ emulated, – not)",
        "",
        "| path | operations | quirks reproduced | source |",
        "|---|---|---|---|",
        *syncro,
        "",
        "#### Synchroteam v3 (paths under /api/v3, matched case-insensitively)",
        "",
        "| endpoint | emulated | quirks | source |",
        "|---|---|---|---|",
        *team,
        "",
        "#### FieldCamp v1 (paths under /api/v1)",
        "",
        "| endpoint | emulated | quirks | source |",
        "|---|---|---|---|",
        *camp,
        END,
    ]
    return "\n".join(lines)


def current() -> str:
    """The section as it stands in docs/sandbox.md (markers included), or ''."""
    text = DOC.read_text()
    if BEGIN not in text:
        return ""
    return text[text.index(BEGIN) : text.index(END) + len(END)]


def main(argv: list[str] | None = None) -> int:
    """Print, ``--write`` or ``--check`` the section; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    fresh = render()
    if args.check:
        if current() != fresh:
            print(
                "docs/sandbox.md Fidelity section is out of date: run scripts/fidelity_table.py --write"
            )
            return 1
        return 0
    if args.write:
        text = DOC.read_text()
        old = current()
        if not old:
            raise SystemExit(f"docs/sandbox.md has no {BEGIN} marker")
        DOC.write_text(text.replace(old, fresh))
        return 0
    print(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
