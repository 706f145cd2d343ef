"""Synchroteam web services v3 emulator (mounted at ``/synchroteam/api/v3``; paths are
case-insensitive, ``/Api/v3/Job/List`` works too).

Sources: ``reference/vendor-apis.md`` §2 (auth, the ``<resource>/list|details|send|delete``
pattern, ``page``/``pageSize``/``recordsTotal``/``data``, job statuses, ``job/send`` upsert by
``id``/``myId``, ``job/schedule``, ``X-Quota-Remaining``, custom fields, date format) and
``seeds/000_*.txt`` (per-token ~1000/min and ~15 000/day, custom fields on jobs, customers,
sites, equipment and users; activities clock in/out, travel, work, unavailability).

Decisions where the sources are silent (docs/sandbox.md lists them all):

* Dates are naive ``"YYYY-MM-DD HH:MM:SS"`` strings in UTC (the account's zone is unverified).
* Lists are ordered by ``id`` ascending; ``pageSize`` above 100 is clamped to 100 and the
  response echoes the effective ``page`` and ``pageSize`` next to ``recordsTotal``.
* No modified-since filter exists (none was found): incremental sync compares ``dateModified``.
* ``site/list`` accepts ``search`` and ignores it (ief_lib: "le paramètre search NE FILTRE PAS").
* ``customfield/list`` answers 405 on GET; use POST (TS client note).
* Error bodies follow ASP.NET Web API: ``{"message": "..."}``; 401 says "Authorization has
  been denied for this request."
* 429 (per-minute limit or daily quota) carries ``Retry-After`` and ``X-Quota-Remaining``.
* Unknown custom-field labels in ``/send`` are ignored.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from connectors.sandbox import accounts
from connectors.sandbox.app import (
    Ctx,
    Reply,
    Request,
    Response,
    Vendor,
    json_response,
    raw_json_response,
    route,
)
from connectors.sandbox.clock import parse_instant, sortable, sortable_text
from connectors.sandbox.datagen import Gen
from connectors.sandbox.ratelimit import DailyQuota, SlidingWindow
from connectors.sandbox.store import Where, register_kind
from connectors.synchroteam.vocab import JOB_STATUSES, SCHEDULABLE_STATUSES

STATUSES = JOB_STATUSES
SCHEDULABLE = SCHEDULABLE_STATUSES
DATE_FMT = "%Y-%m-%d %H:%M:%S"

CUSTOM_FIELDS: dict[str, list[dict[str, Any]]] = {
    "job": [
        {"id": 101, "label": "Customer PO Number:", "type": "text"},
        {
            "id": 102,
            "label": "ServiceWorkType",
            "type": "list",
            "values": ["Repair", "Maintenance", "Install", "Inspection", "Emergency"],
        },
        {"id": 103, "label": "Permit Required", "type": "yesno"},
        {"id": 104, "label": "Refrigerant Added (lbs)", "type": "number"},
    ],
    "customer": [
        {
            "id": 201,
            "label": "Billing Terms",
            "type": "list",
            "values": ["Due on receipt", "Net 15", "Net 30"],
        },
        {"id": 202, "label": "Tax Exempt", "type": "yesno"},
        {
            "id": 203,
            "label": "Preferred Contact Method",
            "type": "list",
            "values": ["Phone", "Email", "SMS"],
        },
    ],
    "site": [
        {"id": 301, "label": "Gate Code", "type": "text"},
        {"id": 302, "label": "Access Hours", "type": "text"},
        {"id": 303, "label": "Pets On Site", "type": "yesno"},
    ],
    "equipment": [
        {"id": 401, "label": "Install Date", "type": "date"},
        {"id": 402, "label": "Warranty Expires", "type": "date"},
        {
            "id": 403,
            "label": "Refrigerant Type",
            "type": "list",
            "values": ["R-410A", "R-32", "R-22", "R-454B"],
        },
        {"id": 404, "label": "Filter Size", "type": "text"},
    ],
    "user": [
        {"id": 501, "label": "License Number", "type": "text"},
        {"id": 502, "label": "Van Number", "type": "text"},
        {"id": 503, "label": "Certifications", "type": "text"},
    ],
}
JOB_TYPES = [
    (601, "HVAC Maintenance", "HVAC"),
    (602, "HVAC Repair", "HVAC"),
    (603, "AC Install", "HVAC"),
    (604, "Furnace Repair", "HVAC"),
    (611, "Plumbing Repair", "Plumbing"),
    (612, "Water Heater Install", "Plumbing"),
    (613, "Drain Cleaning", "Plumbing"),
    (614, "Leak Detection", "Plumbing"),
    (621, "Electrical Repair", "Electrical"),
    (622, "Panel Upgrade", "Electrical"),
    (623, "EV Charger Install", "Electrical"),
    (624, "Lighting Install", "Electrical"),
]
TRADE_TEMPLATES = {
    "HVAC": (701, "HVAC Service Report"),
    "Plumbing": (702, "Plumbing Report"),
    "Electrical": (703, "Electrical Inspection Report"),
}
EQUIPMENT = {
    "HVAC": [
        ("Carrier", "24ACC636A003 AC Condenser"),
        ("Trane", "XR14 Heat Pump"),
        ("Lennox", "EL296V Gas Furnace"),
        ("Goodman", "GSXC18 Air Conditioner"),
    ],
    "Plumbing": [
        ("Rheem", "Performance 50 Gal Water Heater"),
        ("Rinnai", "RU199iN Tankless Heater"),
        ("Zoeller", "M53 Sump Pump"),
    ],
    "Electrical": [
        ("Square D", "QO 200A Load Center"),
        ("Generac", "Guardian 22kW Generator"),
        ("ChargePoint", "Home Flex EV Charger"),
    ],
}
PARTS = [
    ("HV-CAP-45", "Dual Run Capacitor 45/5 MFD", "part", "HVAC", 38.0),
    ("HV-CONT-30", "Contactor 30A 24V", "part", "HVAC", 29.0),
    ("HV-FLT-16", "Pleated Filter 16x25x1", "part", "HVAC", 12.0),
    ("HV-R410A", "R-410A Refrigerant (per lb)", "part", "HVAC", 85.0),
    ("HV-IGN", "Hot Surface Igniter", "part", "HVAC", 64.0),
    ("HV-TSTAT", "Smart Thermostat", "part", "HVAC", 219.0),
    ("PL-VALVE-34", "3/4in Ball Valve", "part", "Plumbing", 24.0),
    ("PL-WAX", "Wax Ring Kit", "part", "Plumbing", 9.0),
    ("PL-ANODE", "Water Heater Anode Rod", "part", "Plumbing", 45.0),
    ("PL-PEX-12", "PEX Tubing 1/2in (10ft)", "part", "Plumbing", 14.0),
    ("PL-TPR", "T&P Relief Valve", "part", "Plumbing", 31.0),
    ("EL-BRK-20", "20A Breaker", "part", "Electrical", 18.0),
    ("EL-GFCI", "GFCI Outlet 20A", "part", "Electrical", 26.0),
    ("EL-WIRE-12", "12/2 NM-B Wire (50ft)", "part", "Electrical", 58.0),
    ("EL-SURGE", "Whole-Home Surge Protector", "part", "Electrical", 189.0),
    ("SV-LAB-STD", "Labor - Standard Hour", "service", "Labor", 125.0),
    ("SV-LAB-OT", "Labor - After Hours", "service", "Labor", 187.5),
    ("SV-TRIP", "Trip Charge", "service", "Labor", 79.0),
    ("SV-DIAG", "Diagnostic Fee", "service", "Labor", 99.0),
    ("SV-MAINT", "Maintenance Agreement Visit", "service", "Labor", 149.0),
]
TAX = {"id": 801, "name": "Sales Tax", "rate": 7.25}

K = {
    name: f"synchroteam.{name}"
    for name in (
        "customer",
        "site",
        "user",
        "job",
        "activity",
        "equipment",
        "part",
        "invoice",
        "quotation",
    )
}


def st_date(dt: datetime | None) -> str | None:
    return dt.strftime(DATE_FMT) if dt else None


def st_parse(value: str | None) -> datetime | None:
    """Parse a Synchroteam naive date (UTC by the sandbox's decision)."""
    if not value:
        return None
    return parse_instant(value)


def _sort(value: str | None) -> str | None:
    return sortable_text(value) if value else None


def _ref(obj: Any) -> Any:
    return obj.get("id") if isinstance(obj, dict) else None


def _cols(d: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": d["id"],
        "ext": d.get("myId"),
        "created_at": _sort(d.get("dateCreated")),
        "updated_at": _sort(d.get("dateModified")),
        **extra,
    }


register_kind(K["customer"], lambda d: _cols(d, search=(d.get("name") or "").lower()))
register_kind(
    K["site"],
    lambda d: _cols(
        d,
        parent_id=_ref(d.get("customer")),
        customer_id=_ref(d.get("customer")),
        search=(d.get("name") or "").lower(),
    ),
)
register_kind(K["user"], lambda d: _cols(d, ref=d.get("login"), status=d.get("profile")))
register_kind(
    K["job"],
    lambda d: _cols(
        d,
        parent_id=_ref(d.get("site")),
        customer_id=_ref(d.get("customer")),
        user_id=_ref(d.get("technician")),
        status=d["status"],
        ref=str(d["num"]),
    ),
)
register_kind(
    K["activity"],
    lambda d: _cols(
        d,
        parent_id=_ref(d.get("job")),
        user_id=_ref(d.get("user")),
        status=d["type"],
        search=_sort(d.get("dateStart")),
    ),
)
register_kind(
    K["equipment"],
    lambda d: _cols(d, parent_id=_ref(d.get("site")), customer_id=_ref(d.get("customer"))),
)
register_kind(K["part"], lambda d: _cols(d, ref=d.get("reference"), status=d.get("status")))
register_kind(
    K["invoice"],
    lambda d: _cols(
        d,
        parent_id=_ref(d.get("job")),
        customer_id=_ref(d.get("customer")),
        status=d["status"],
        ref=d.get("num"),
    ),
)
register_kind(
    K["quotation"],
    lambda d: _cols(
        d,
        parent_id=_ref(d.get("job")),
        customer_id=_ref(d.get("customer")),
        status=d["status"],
        ref=d.get("num"),
    ),
)


def custom_values(resource: str, values: dict[int, Any]) -> list[dict[str, Any]]:
    defs = {f["id"]: f for f in CUSTOM_FIELDS[resource]}
    return [
        {"id": fid, "label": defs[fid]["label"], "value": value}
        for fid, value in values.items()
        if fid in defs
    ]


def merge_custom_values(
    resource: str, current: list[dict[str, Any]], incoming: Any
) -> list[dict[str, Any]]:
    """``/send`` custom fields: a list of ``{label|id, value}``; unknown fields are ignored."""
    if not isinstance(incoming, list):
        return current
    defs = CUSTOM_FIELDS.get(resource, [])
    by_label = {f["label"].lower(): f for f in defs}
    by_id = {f["id"]: f for f in defs}
    out = {cv["id"]: dict(cv) for cv in current}
    for item in incoming:
        if not isinstance(item, dict):
            continue
        fdef = by_id.get(item.get("id") or item.get("fieldId")) or by_label.get(
            str(item.get("label", "")).lower()
        )
        if fdef is not None:
            out[fdef["id"]] = {"id": fdef["id"], "label": fdef["label"], "value": item.get("value")}
    return [out[k] for k in sorted(out)]


@dataclass
class Resource:
    """One ``<name>/list|details|send|delete`` resource."""

    name: str
    filters: dict[str, Callable[[str], Where]] = field(default_factory=dict)
    ignored_filters: tuple[str, ...] = ()
    lookups: tuple[str, ...] = ("id", "myId")

    @property
    def kind(self) -> str:
        return K[self.name]


def _eq(col: str, cast: Callable[[str], Any] = str) -> Callable[[str], Where]:
    return lambda v: Where(f"{col} = ?", (cast(v),))


def _date_field(path: str, op: str) -> Callable[[str], Where]:
    def build(value: str) -> Where:
        return Where(
            f"json_extract(data, '$.{path}') IS NOT NULL AND json_extract(data, '$.{path}') {op} ?",
            (st_date(parse_instant(value)),),
        )

    return build


def _status_in(value: str) -> Where:
    wanted = [s.strip().lower() for s in value.split(",") if s.strip()]
    return Where(f"status IN ({','.join('?' * len(wanted))})", tuple(wanted))


RESOURCES = {
    r.name: r
    for r in [
        Resource(
            "job",
            {
                "status": _status_in,
                "dateFrom": _date_field("scheduledStart", ">="),
                "dateTo": _date_field("scheduledStart", "<="),
                "validatedSince": _date_field("dateValidated", ">="),
                "customerId": _eq("customer_id", int),
                "technicianId": _eq("user_id", int),
            },
            lookups=("id", "myId", "num"),
        ),
        Resource("customer", {}, lookups=("id", "myId", "name")),
        Resource(
            "site",
            {"customerId": _eq("customer_id", int)},
            ignored_filters=("search",),
            lookups=("id", "myId", "name"),
        ),
        Resource("user", {}, lookups=("id", "myId", "login")),
        Resource(
            "activity",
            {
                "userId": _eq("user_id", int),
                "jobId": _eq("parent_id", int),
                "type": _eq("status"),
                "dateFrom": lambda v: Where("search >= ?", (sortable(parse_instant(v)),)),
                "dateTo": lambda v: Where("search <= ?", (sortable(parse_instant(v)),)),
            },
            lookups=("id",),
        ),
        Resource(
            "equipment", {"customerId": _eq("customer_id", int), "siteId": _eq("parent_id", int)}
        ),
        Resource("part", {"status": _eq("status")}, lookups=("id", "reference")),
        Resource(
            "invoice",
            {"status": _status_in, "jobId": _eq("parent_id", int)},
            lookups=("id", "myId", "num"),
        ),
        Resource(
            "quotation",
            {"status": _status_in, "jobId": _eq("parent_id", int)},
            lookups=("id", "myId", "num"),
        ),
    ]
}


def st_error(message: str, status: int) -> Reply:
    return Reply(json_response({"message": message}, status))


class SynchroteamSandbox(Vendor):
    """The Synchroteam emulator. Python inspection: :meth:`job_records`, :meth:`find`."""

    name = "synchroteam"
    case_insensitive = True

    def __init__(self, sandbox: Any) -> None:
        super().__init__(sandbox)
        self._window: SlidingWindow | None = None
        self._quota: DailyQuota | None = None

    # --- auth, limits, errors ----------------------------------------------------------------
    def authenticate(self, req: Request) -> tuple[Any, str] | Response:
        header = req.headers.get("authorization", "")
        denied = json_response({"message": "Authorization has been denied for this request."}, 401)
        if not header.lower().startswith("basic "):
            return denied
        try:
            domain, _, key = base64.b64decode(header[6:].strip()).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return denied
        if domain.lower() != accounts.SYNCHROTEAM_DOMAIN or key != accounts.SYNCHROTEAM_API_KEY:
            return denied
        return key, f"domain:{domain.lower()}"

    def check_limits(
        self, req: Request, principal: Any
    ) -> tuple[Response | None, list[tuple[str, str]]]:
        cfg = self.sandbox.config
        now = self.sandbox.clock.now()
        headers: list[tuple[str, str]] = []
        if cfg.synchroteam_rate_limit_per_minute:
            if self._window is None or self._window.limit != cfg.synchroteam_rate_limit_per_minute:
                self._window = SlidingWindow(cfg.synchroteam_rate_limit_per_minute)
            minute = self._window.hit(principal, now)
            if not minute.allowed:
                resp = json_response(
                    {"message": "Rate limit exceeded. Please retry later."},
                    429,
                    [("Retry-After", str(minute.reset_seconds))],
                )
                resp.headers.extend(self._quota_headers(principal, now))
                return resp, []
        if cfg.synchroteam_daily_quota:
            if self._quota is None or self._quota.limit != cfg.synchroteam_daily_quota:
                self._quota = DailyQuota(cfg.synchroteam_daily_quota)
            day = self._quota.hit(principal, now)
            headers.append(("X-Quota-Remaining", str(day.remaining)))
            if not day.allowed:
                return json_response(
                    {"message": "Daily API quota exceeded."},
                    429,
                    [("Retry-After", str(day.reset_seconds)), *headers],
                ), []
        return None, headers

    def _quota_headers(self, principal: str, now: datetime) -> list[tuple[str, str]]:
        if self._quota is None:
            return []
        used = self._quota._used.get((principal, now.strftime("%Y-%m-%d")), 0)
        return [("X-Quota-Remaining", str(max(self._quota.limit - used, 0)))]

    def too_many_requests(self, req: Request) -> Response:
        return json_response(
            {"message": "Rate limit exceeded. Please retry later."}, 429, [("Retry-After", "60")]
        )

    def reset_limits(self) -> None:
        for limiter in (self._window, self._quota):
            if limiter is not None:
                limiter.clear()

    def not_found(self, req: Request) -> Response:
        return json_response(
            {
                "message": f"No HTTP resource was found that matches the request URI '{req.full_path}'."
            },
            404,
        )

    def method_not_allowed(self, req: Request) -> Response:
        return json_response(
            {"message": f"The requested resource does not support http method '{req.method}'."}, 405
        )

    def bad_json(self, req: Request) -> Response:
        return json_response({"message": "The request is invalid."}, 400)

    # --- generic resource endpoints ----------------------------------------------------------
    def _resource(self, ctx: Ctx) -> Resource:
        res = RESOURCES.get(ctx.req.params["resource"].lower())
        if res is None:
            raise Reply(self.not_found(ctx.req))
        return res

    def _paging(self, ctx: Ctx, body: dict[str, Any] | None = None) -> tuple[int, int]:
        cfg = self.sandbox.config
        source = body or {}

        def val(name: str) -> int | None:
            raw = ctx.req.arg(name) if ctx.req.arg(name) is not None else source.get(name)
            try:
                return int(raw) if raw is not None else None
            except (TypeError, ValueError):
                raise st_error(f"The value '{raw}' is not valid for {name}.", 400) from None

        page = max(val("page") or 1, 1)
        size = val("pageSize") or cfg.synchroteam_default_page_size
        return page, min(max(size, 1), cfg.synchroteam_max_page_size)

    @route("GET", "/{resource}/list")
    def list_(self, ctx: Ctx) -> Response:
        """``GET <resource>/list?page=&pageSize=&<filters>`` -> ``{"page", "pageSize",
        "recordsTotal", "data"}`` (vendor-apis.md §2.4). Job filters: ``status`` (comma list),
        ``dateFrom``/``dateTo`` (on ``scheduledStart``), ``validatedSince``, ``customerId``,
        ``technicianId``."""
        if ctx.req.params["resource"].lower() == "customfield":
            raise Reply(self.method_not_allowed(ctx.req))
        res = self._resource(ctx)
        where: list[Where] = []
        for name, build in res.filters.items():
            value = ctx.req.arg(name)
            if value:
                try:
                    where.append(build(value))
                except ValueError:
                    raise st_error(f"The value '{value}' is not valid for {name}.", 400) from None
        page, size = self._paging(ctx)
        total = ctx.store.count(res.kind, where)
        rows = ctx.store.select_raw(res.kind, where, limit=size, offset=(page - 1) * size)
        return raw_json_response(
            f'{{"page":{page},"pageSize":{size},"recordsTotal":{total},"data":['
            + ",".join(rows)
            + "]}"
        )

    def _lookup(self, ctx: Ctx, res: Resource, source: dict[str, Any]) -> dict[str, Any]:
        for key in res.lookups:
            value = source.get(key)
            if value in (None, ""):
                continue
            if key == "id":
                try:
                    record = ctx.store.get(res.kind, int(value))
                except (TypeError, ValueError):
                    record = None
            else:
                col = {"myId": "ext", "num": "ref", "login": "ref", "reference": "ref"}.get(key)
                if col:
                    found = ctx.store.select(
                        res.kind, [Where(f"{col} = ?", (str(value),))], limit=1
                    )
                else:  # name
                    found = ctx.store.select(
                        res.kind, [Where("search = ?", (str(value).lower(),))], limit=1
                    )
                record = found[0] if found else None
            if record is None:
                raise st_error(f"{res.name.capitalize()} not found.", 404)
            return record
        raise st_error(f"One of {', '.join(res.lookups)} is required.", 400)

    @route("GET", "/{resource}/details")
    def details(self, ctx: Ctx) -> Response:
        """``GET <resource>/details?id=`` (or ``myId``, ``num`` for jobs/invoices, ``name`` for
        customers/sites): the record, unwrapped; 404 ``{"message"}`` when absent."""
        res = self._resource(ctx)
        return json_response(self._lookup(ctx, res, {k: v[0] for k, v in ctx.req.query.items()}))

    @route("DELETE", "/{resource}/delete")
    def delete(self, ctx: Ctx) -> Response:
        """``DELETE <resource>/delete?id=`` (or ``myId``/``num``, in the query or a JSON body, as
        BenN182 sends it). Answers ``{"id": <deleted id>}``."""
        res = self._resource(ctx)
        source = {k: v[0] for k, v in ctx.req.query.items()}
        body = ctx.req.json()
        if isinstance(body, dict):
            source.update(body)
        record = self._lookup(ctx, res, source)
        ctx.store.delete(res.kind, record["id"])
        ctx.touch(res.kind, record["id"], "deleted")
        return json_response({"id": record["id"]})

    @route("POST", "/{resource}/send")
    def send(self, ctx: Ctx) -> Response:
        """``POST <resource>/send``: with an ``id`` (must exist) or a known ``myId`` -> partial
        update of the keys given; otherwise create (vendor-apis.md §2.3, ief_lib: "without id =
        create; with id = PARTIAL update"). Answers the full record. No other idempotency: two
        creates without ``myId`` are two records."""
        res = self._resource(ctx)
        body = ctx.req.json()
        if not isinstance(body, dict):
            raise st_error("The request is invalid.", 400)
        existing = None
        if body.get("id") not in (None, ""):
            existing = self._lookup(ctx, res, {"id": body["id"]})
        elif body.get("myId") and "myId" in res.lookups:
            found = ctx.store.select(res.kind, [Where("ext = ?", (str(body["myId"]),))], limit=1)
            existing = found[0] if found else None
        now = ctx.now()
        if existing is None:
            record = self._blank(ctx, res, body, now)
            op = "created"
        else:
            record = existing
            op = "updated"
        self._apply(ctx, res, record, body, creating=existing is None)
        record["dateModified"] = st_date(now)
        ctx.store.put(res.kind, record)
        ctx.touch(res.kind, record["id"], op)
        return json_response(record)

    def _blank(
        self, ctx: Ctx, res: Resource, body: dict[str, Any], now: datetime
    ) -> dict[str, Any]:
        rid = ctx.store.next_id(res.kind, start=FIRST_IDS[res.name])
        record: dict[str, Any] = {
            "id": rid,
            "myId": None,
            "dateCreated": st_date(now),
            "dateModified": st_date(now),
        }
        if res.name == "job":
            num = ctx.store.next_id("synchroteam.job_num", start=FIRST_IDS["job_num"])
            record.update(blank_job(rid, num, now))
        elif res.name in CUSTOM_FIELDS:
            record["customFieldValues"] = []
        if res.name in ("invoice", "quotation"):
            seq = ctx.store.next_id(f"synchroteam.{res.name}_num", start=1)
            record.update(
                {
                    "num": f"{'INV' if res.name == 'invoice' else 'QUO'}-{seq:06d}",
                    "status": "draft",
                    "lines": [],
                    "currency": "USD",
                }
            )
        return record

    def _resolve(
        self, ctx: Ctx, name: str, ref: Any, *, required: bool = False
    ) -> dict[str, Any] | None:
        if not isinstance(ref, dict) or not any(
            ref.get(k) for k in ("id", "myId", "name", "login")
        ):
            if required:
                raise st_error(f"{name.capitalize()} is required.", 400)
            return None
        res = RESOURCES[name]
        source = {k: ref.get(k) for k in ("id", "myId", "name", "login") if ref.get(k)}
        return self._lookup(ctx, res, source)

    def _apply(
        self,
        ctx: Ctx,
        res: Resource,
        record: dict[str, Any],
        body: dict[str, Any],
        *,
        creating: bool,
    ) -> None:
        skip = {
            "id",
            "dateCreated",
            "dateModified",
            "customFieldValues",
            "customer",
            "site",
            "equipment",
            "technician",
            "user",
            "job",
            "type",
            "status",
            "num",
        }
        if (
            res.name in ("customer", "site", "equipment", "part")
            and creating
            and not str(body.get("name") or "").strip()
        ):
            raise st_error("Name is required.", 400)
        if res.name == "part" and creating and not body.get("reference"):
            raise st_error("Reference is required.", 400)
        for key, value in body.items():
            if key not in skip:
                record[key] = value
        if "customFieldValues" in body and res.name in CUSTOM_FIELDS:
            record["customFieldValues"] = merge_custom_values(
                res.name, record.get("customFieldValues") or [], body["customFieldValues"]
            )
        if res.name in ("site", "equipment", "job", "invoice", "quotation") and (
            "customer" in body or creating
        ):
            customer = self._resolve(
                ctx,
                "customer",
                body.get("customer"),
                required=res.name in ("site", "job") and creating,
            )
            record["customer"] = (
                {"id": customer["id"], "myId": customer.get("myId"), "name": customer["name"]}
                if customer
                else record.get("customer")
            )
        if res.name in ("equipment", "job") and "site" in body:
            site = self._resolve(ctx, "site", body.get("site"))
            record["site"] = (
                {"id": site["id"], "myId": site.get("myId"), "name": site["name"]} if site else None
            )
        if res.name == "job":
            if "equipment" in body:
                eq = self._resolve(ctx, "equipment", body.get("equipment"))
                record["equipment"] = (
                    {"id": eq["id"], "myId": eq.get("myId"), "name": eq["name"]} if eq else None
                )
            if "type" in body and isinstance(body["type"], dict):
                jt = next(
                    (
                        t
                        for t in JOB_TYPES
                        if t[0] == body["type"].get("id") or t[1] == body["type"].get("name")
                    ),
                    None,
                )
                record["type"] = (
                    {"id": jt[0], "name": jt[1]}
                    if jt
                    else {"id": None, "name": body["type"].get("name")}
                )
            if "status" in body:
                status = str(body["status"]).lower()
                if status not in STATUSES:
                    raise st_error(f"Invalid status '{body['status']}'.", 400)
                record["status"] = status
                if status == "validated" and not record.get("dateValidated"):
                    record["dateValidated"] = st_date(ctx.now())
        if res.name in ("invoice", "quotation"):
            if "job" in body:
                job = self._resolve(ctx, "job", body.get("job"))
                record["job"] = (
                    {"id": job["id"], "num": job["num"], "myId": job.get("myId")} if job else None
                )
            if "status" in body:
                record["status"] = str(body["status"]).lower()
        if res.name == "activity":
            user = self._resolve(ctx, "user", body.get("user"), required=creating)
            if user:
                record["user"] = {"id": user["id"], "login": user["login"], "name": user["name"]}
            if "job" in body:
                job = self._resolve(ctx, "job", body.get("job"))
                record["job"] = (
                    {"id": job["id"], "num": job["num"], "myId": job.get("myId")} if job else None
                )
            if creating and body.get("type") not in ACTIVITY_TYPES:
                raise st_error(f"Type must be one of {', '.join(ACTIVITY_TYPES)}.", 400)
            if "type" in body:
                record["type"] = body["type"]

    # --- job scheduling ----------------------------------------------------------------------
    @route("POST", "/job/schedule")
    def job_schedule(self, ctx: Ctx) -> Response:
        """``POST job/schedule {"id"|"myId"|"num", "technician": {"id"}, "scheduledStart",
        "scheduledEnd"}``: both datetimes required, as ``YYYY-MM-DD HH:MM:SS`` (ief_lib).
        Sets status ``scheduled``; jobs already started or later cannot be rescheduled."""
        body = ctx.req.json()
        if not isinstance(body, dict):
            raise st_error("The request is invalid.", 400)
        job = self._lookup(ctx, RESOURCES["job"], body)
        tech = self._resolve(ctx, "user", body.get("technician"), required=True)
        start, end = body.get("scheduledStart"), body.get("scheduledEnd")
        if not start or not end:
            raise st_error("scheduledStart and scheduledEnd are required.", 400)
        try:
            start_dt = datetime.strptime(str(start), DATE_FMT)
            end_dt = datetime.strptime(str(end), DATE_FMT)
        except ValueError:
            raise st_error("Dates must be formatted as yyyy-MM-dd HH:mm:ss.", 400) from None
        if end_dt <= start_dt:
            raise st_error("scheduledEnd must be after scheduledStart.", 400)
        if job["status"] not in SCHEDULABLE:
            raise st_error(f"A job in status '{job['status']}' cannot be scheduled.", 400)
        job.update(
            status="scheduled",
            technician={"id": tech["id"], "login": tech["login"], "name": tech["name"]},
            scheduledStart=st_date(start_dt),
            scheduledEnd=st_date(end_dt),
            dateModified=st_date(ctx.now()),
        )
        ctx.store.put(K["job"], job)
        ctx.touch(K["job"], job["id"], "updated")
        return json_response(job)

    @route("POST", "/job/unschedule")
    def job_unschedule(self, ctx: Ctx) -> Response:
        body = ctx.req.json()
        job = self._lookup(ctx, RESOURCES["job"], body if isinstance(body, dict) else {})
        if job["status"] not in SCHEDULABLE:
            raise st_error(f"A job in status '{job['status']}' cannot be unscheduled.", 400)
        job.update(
            status="created",
            technician=None,
            scheduledStart=None,
            scheduledEnd=None,
            dateModified=st_date(ctx.now()),
        )
        ctx.store.put(K["job"], job)
        ctx.touch(K["job"], job["id"], "updated")
        return json_response(job)

    @route("POST", "/customfield/list")
    def customfield_list(self, ctx: Ctx) -> Response:
        """``POST customfield/list {"type": "job"|"customer"|"site"|"equipment"|"user"}``; GET
        answers 405 (TS client: "customfield/list answers 405 on GET — use POST")."""
        body = ctx.req.json() if ctx.req.body else {}
        body = body if isinstance(body, dict) else {}
        kinds = [body["type"]] if body.get("type") in CUSTOM_FIELDS else list(CUSTOM_FIELDS)
        rows = [{**f, "type": f["type"], "objectType": k} for k in kinds for f in CUSTOM_FIELDS[k]]
        page, size = self._paging(ctx, body)
        return json_response(
            {
                "page": page,
                "pageSize": size,
                "recordsTotal": len(rows),
                "data": rows[(page - 1) * size : page * size],
            }
        )

    @route("GET", "/jobtype/list")
    def jobtype_list(self, ctx: Ctx) -> Response:
        rows = [{"id": i, "name": n, "category": c} for i, n, c in JOB_TYPES]
        return json_response(
            {"page": 1, "pageSize": len(rows), "recordsTotal": len(rows), "data": rows}
        )

    # --- Python inspection API ---------------------------------------------------------------
    def job_records(self, job_id: int) -> dict[str, Any]:
        """``{"job", "activities", "invoices", "quotations"}`` for one job."""
        store = self.sandbox.store
        on_job = [Where("parent_id = ?", (job_id,))]
        return {
            "job": store.get(K["job"], job_id),
            "activities": store.select(K["activity"], on_job),
            "invoices": store.select(K["invoice"], on_job),
            "quotations": store.select(K["quotation"], on_job),
        }

    def find(
        self,
        resource: str,
        *,
        my_id: str | None = None,
        status: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Records of ``resource`` (job, customer, ...) by ``myId`` and/or ``status``."""
        where = []
        if my_id is not None:
            where.append(Where("ext = ?", (my_id,)))
        if status is not None:
            where.append(Where("status = ?", (status,)))
        return self.sandbox.store.select(K[resource], where, limit=limit)

    # --- data --------------------------------------------------------------------------------
    def generate(self, gen: Gen) -> None:
        generate_synchroteam(self, gen)

    def churn(self, count: int, rng: Any) -> dict[str, Any]:
        return churn_synchroteam(self, count, rng)


ACTIVITY_TYPES = ("clockin", "clockout", "travel", "work", "unavailability")
FIRST_IDS = {
    "customer": 310_001,
    "site": 420_001,
    "user": 179_801,
    "job": 2_400_001,
    "job_num": 10_001,
    "activity": 5_100_001,
    "equipment": 530_001,
    "part": 640_001,
    "invoice": 750_001,
    "quotation": 860_001,
}


def blank_job(rid: int, num: int, now: datetime) -> dict[str, Any]:
    return {
        "id": rid,
        "myId": None,
        "num": num,
        "description": "",
        "priority": "medium",
        "customer": None,
        "site": None,
        "equipment": None,
        "type": None,
        "reportTemplate": None,
        "createdBy": {"id": FIRST_IDS["user"], "login": "office", "name": "Office Manager"},
        "address": None,
        "addressStreet": None,
        "addressCity": None,
        "addressProvince": None,
        "addressZIP": None,
        "addressCountry": "United States",
        "addressComplement": None,
        "contactFirstName": None,
        "contactLastName": None,
        "contactMobile": None,
        "contactPhone": None,
        "contactEmail": None,
        "status": "created",
        "publicLink": f"https://{accounts.SYNCHROTEAM_DOMAIN}.synchroteam.com/p/{rid:x}",
        "technician": None,
        "scheduledStart": None,
        "scheduledEnd": None,
        "actualStart": None,
        "actualEnd": None,
        "dateValidated": None,
        "position": None,
        "customFieldValues": [],
        "dateCreated": st_date(now),
        "dateModified": st_date(now),
    }


def _addr(gen: Gen) -> dict[str, Any]:
    f = gen.fake
    street, city, state, zip_code = f.street_address(), f.city(), f.state_abbr(), f.zipcode()
    return {
        "address": f"{street}, {city}, {state} {zip_code}",
        "addressStreet": street,
        "addressCity": city,
        "addressProvince": state,
        "addressZIP": zip_code,
        "addressCountry": "United States",
        "position": {
            "latitude": round(float(f.latitude()), 5),
            "longitude": round(float(f.longitude()), 5),
        },
    }


def generate_synchroteam(v: SynchroteamSandbox, gen: Gen) -> None:
    store = v.sandbox.store
    rng, fake = gen.rng, gen.fake
    d = st_date
    # users: managers + technicians
    users = []
    n_techs = min(60, max(8, gen.n // 2500))
    office = {
        "id": FIRST_IDS["user"],
        "myId": "EMP-000",
        "login": "office",
        "firstName": "Office",
        "lastName": "Manager",
        "name": "Office Manager",
        "email": f"office@{accounts.SYNCHROTEAM_DOMAIN}.example",
        "phone": fake.numerify("###-###-####"),
        "profile": "manager",
        "active": True,
        "customFieldValues": [],
        "dateCreated": d(gen.past(900, 600)),
        "dateModified": d(gen.past(600, 300)),
    }
    users.append(office)
    for i in range(1, n_techs + 1):
        first, last = fake.first_name(), fake.last_name()
        at = gen.past(900, 280)
        users.append(
            {
                "id": FIRST_IDS["user"] + i,
                "myId": f"EMP-{i:03d}",
                "login": f"{first[0].lower()}{last.lower()}",
                "firstName": first,
                "lastName": last,
                "name": f"{first} {last}",
                "email": f"{first.lower()}.{last.lower()}@{accounts.SYNCHROTEAM_DOMAIN}.example",
                "phone": fake.numerify("###-###-####"),
                "profile": "technician",
                "active": rng.random() > 0.05,
                "customFieldValues": custom_values(
                    "user",
                    {
                        501: fake.bothify("LIC-#######"),
                        502: f"VAN-{i:02d}",
                        503: rng.choice(
                            [
                                "EPA 608",
                                "EPA 608, NATE",
                                "Journeyman Plumber",
                                "Master Electrician",
                                "Journeyman Electrician",
                            ]
                        ),
                    },
                ),
                "dateCreated": d(at),
                "dateModified": d(gen.after(at, 24 * 200)),
            }
        )
    store.put_many(K["user"], users)
    techs = [u for u in users if u["profile"] == "technician"]

    parts = []
    for i, (ref, name, kind, cat, price) in enumerate(PARTS):
        parts.append(
            {
                "id": FIRST_IDS["part"] + i,
                "myId": None,
                "reference": ref,
                "name": name,
                "description": name,
                "price": price,
                "isTracked": kind == "part",
                "category": cat,
                "status": "active",
                "type": kind,
                "tax": TAX,
                "dateCreated": d(gen.past(900, 600)),
                "dateModified": d(gen.past(600, 100)),
            }
        )
    store.put_many(K["part"], parts)

    customers, sites, equipment = [], [], []
    sites_of: dict[int, list[dict[str, Any]]] = {}
    equipment_of: dict[int, list[dict[str, Any]]] = {}
    for i in range(max(15, gen.n // 20)):
        cid = FIRST_IDS["customer"] + i
        at = gen.past(900, 280)
        commercial = rng.random() < 0.4
        first, last = fake.first_name(), fake.last_name()
        name = fake.company() if commercial else f"{last}, {first}"
        cust = {
            "id": cid,
            "myId": f"CUST-{i + 1:05d}",
            "name": name,
            **_addr(gen),
            "contactFirstName": first,
            "contactLastName": last,
            "contactEmail": f"{first.lower()}.{last.lower()}@example.com",
            "contactPhone": fake.numerify("###-###-####"),
            "contactMobile": fake.numerify("###-###-####"),
            "active": True,
            "customFieldValues": custom_values(
                "customer",
                {
                    201: rng.choice(["Due on receipt", "Net 15", "Net 30"])
                    if commercial
                    else "Due on receipt",
                    202: "no" if rng.random() < 0.9 else "yes",
                    203: rng.choice(["Phone", "Email", "SMS"]),
                },
            ),
            "dateCreated": d(at),
            "dateModified": d(gen.after(at, 24 * 300)),
        }
        customers.append(cust)
        for s in range(rng.choices([1, 2, 3], [70, 22, 8])[0] if commercial else 1):
            sid = FIRST_IDS["site"] + len(sites)
            site = {
                "id": sid,
                "myId": f"SITE-{len(sites) + 1:05d}",
                "name": f"{name} - {'Main' if s == 0 else fake.city()}",
                "customer": {"id": cid, "myId": cust["myId"], "name": name},
                **(
                    _addr(gen)
                    if s
                    else {
                        k: cust[k]
                        for k in (
                            "address",
                            "addressStreet",
                            "addressCity",
                            "addressProvince",
                            "addressZIP",
                            "addressCountry",
                            "position",
                        )
                    }
                ),
                "contactFirstName": first,
                "contactLastName": last,
                "contactPhone": cust["contactPhone"],
                "active": True,
                "customFieldValues": custom_values(
                    "site",
                    {
                        301: fake.numerify("####") if rng.random() < 0.4 else "",
                        302: rng.choice(
                            ["Mon-Fri 8-5", "24/7", "Call ahead", "Weekdays after 9am"]
                        ),
                        303: rng.choice(["yes", "no", "no"]),
                    },
                ),
                "dateCreated": d(at),
                "dateModified": d(gen.after(at, 24 * 300)),
            }
            sites.append(site)
            sites_of.setdefault(cid, []).append(site)
            for trade in rng.sample(list(EQUIPMENT), rng.randint(1, 2)):
                brand, model = rng.choice(EQUIPMENT[trade])
                eid = FIRST_IDS["equipment"] + len(equipment)
                installed = gen.past(3000, 300)
                eq = {
                    "id": eid,
                    "myId": fake.bothify("SN-??########").upper(),
                    "name": f"{brand} {model}",
                    "brand": brand,
                    "model": model,
                    "category": trade,
                    "customer": site["customer"],
                    "site": {"id": sid, "myId": site["myId"], "name": site["name"]},
                    "active": True,
                    "customFieldValues": custom_values(
                        "equipment",
                        {
                            401: installed.strftime("%Y-%m-%d"),
                            402: (installed + timedelta(days=3650)).strftime("%Y-%m-%d"),
                            403: rng.choice(["R-410A", "R-32", "R-22", "R-454B"])
                            if trade == "HVAC"
                            else "",
                            404: rng.choice(["16x25x1", "20x25x1", "16x20x1"])
                            if trade == "HVAC"
                            else "",
                        },
                    ),
                    "dateCreated": d(at),
                    "dateModified": d(gen.after(at, 24 * 300)),
                }
                equipment.append(eq)
                equipment_of.setdefault(sid, []).append(eq)
    store.put_many(K["customer"], customers)
    store.put_many(K["site"], sites)
    store.put_many(K["equipment"], equipment)

    ids = {k: FIRST_IDS[k] for k in ("job", "job_num", "activity", "invoice", "quotation")}
    nums = {"invoice": 1, "quotation": 1}
    batch: dict[str, list[dict[str, Any]]] = {
        "job": [],
        "activity": [],
        "invoice": [],
        "quotation": [],
    }

    def flush() -> None:
        for name, rows in batch.items():
            if rows:
                store.put_many(K[name], rows)
                rows.clear()

    descriptions = {
        "HVAC": [
            "No cooling upstairs",
            "Annual AC tune-up",
            "Furnace short cycling",
            "Replace condenser fan motor",
            "Thermostat not responding",
            "Strange noise from air handler",
        ],
        "Plumbing": [
            "Water heater leaking",
            "Kitchen drain clogged",
            "Low water pressure",
            "Install new water heater",
            "Toilet running constantly",
            "Leak under slab suspected",
        ],
        "Electrical": [
            "Breaker keeps tripping",
            "Install EV charger in garage",
            "Upgrade panel to 200A",
            "Outlets dead in kitchen",
            "Install recessed lighting",
            "Flickering lights",
        ],
    }
    start_times = sorted(gen.past(HISTORY_SPREAD, -14) for _ in range(gen.n))
    for i, sched in enumerate(start_times):
        jid, num = ids["job"], ids["job_num"]
        ids["job"] += 1
        ids["job_num"] += 1
        cust = rng.choice(customers)
        site = rng.choice(sites_of[cust["id"]])
        type_id, type_name, trade = rng.choice(JOB_TYPES)
        eq_choices = [e for e in equipment_of.get(site["id"], []) if e["category"] == trade]
        eq = rng.choice(eq_choices) if eq_choices else None
        sched = sched.replace(
            minute=rng.choice([0, 30]), second=0, microsecond=0, hour=rng.randint(7, 16)
        )
        created = sched - timedelta(days=rng.uniform(0.2, 14))
        hours_ahead = (sched - gen.anchor).total_seconds() / 3600
        # every status shows up: guarantee the first eight jobs cover all of them
        if i < len(STATUSES):
            status = STATUSES[i]
        elif hours_ahead > 24:
            status = rng.choices(
                ["scheduled", "synchronized", "created", "cancelled"], [50, 20, 25, 5]
            )[0]
        elif hours_ahead > -4:
            status = rng.choices(
                ["synchronized", "started", "paused", "scheduled"], [30, 40, 15, 15]
            )[0]
        elif hours_ahead > -24 * 10:
            status = rng.choices(["completed", "validated", "cancelled", "paused"], [45, 45, 7, 3])[
                0
            ]
        else:
            status = rng.choices(["validated", "completed", "cancelled"], [80, 12, 8])[0]
        created = min(created, gen.anchor)
        job = blank_job(jid, num, created)
        tech = rng.choice(techs)
        job.update(
            {
                k: site[k]
                for k in (
                    "address",
                    "addressStreet",
                    "addressCity",
                    "addressProvince",
                    "addressZIP",
                    "addressCountry",
                    "position",
                )
            }
        )
        job.update(
            myId=f"WO-{num}" if rng.random() < 0.6 else None,
            description=rng.choice(descriptions[trade]),
            priority=rng.choices(["low", "medium", "high"], [20, 65, 15])[0],
            customer={"id": cust["id"], "myId": cust["myId"], "name": cust["name"]},
            site={"id": site["id"], "myId": site["myId"], "name": site["name"]},
            equipment={"id": eq["id"], "myId": eq["myId"], "name": eq["name"]} if eq else None,
            type={"id": type_id, "name": type_name},
            reportTemplate={"id": TRADE_TEMPLATES[trade][0], "name": TRADE_TEMPLATES[trade][1]},
            contactFirstName=cust["contactFirstName"],
            contactLastName=cust["contactLastName"],
            contactPhone=cust["contactPhone"],
            contactMobile=cust["contactMobile"],
            contactEmail=cust["contactEmail"],
            status=status,
            customFieldValues=custom_values(
                "job",
                {
                    101: f"PO-{rng.randint(1000, 99999)}" if rng.random() < 0.5 else "",
                    102: rng.choice(
                        ["Repair", "Maintenance", "Install", "Inspection", "Emergency"]
                    ),
                    103: "yes" if "Install" in type_name or "Upgrade" in type_name else "no",
                    104: str(rng.choice([0, 0, 0, 1, 2, 3])) if trade == "HVAC" else "",
                },
            ),
        )
        modified = created
        if status != "created":
            duration = timedelta(minutes=rng.choice([60, 90, 120, 180, 240]))
            job.update(
                technician={"id": tech["id"], "login": tech["login"], "name": tech["name"]},
                scheduledStart=d(sched),
                scheduledEnd=d(sched + duration),
            )
            modified = min(max(modified, created + timedelta(minutes=5)), gen.anchor)
        if status in ("started", "paused", "completed", "validated"):
            actual_start = min(sched + timedelta(minutes=rng.randint(-20, 40)), gen.anchor)
            travel_start = actual_start - timedelta(minutes=rng.randint(10, 45))
            batch["activity"].append(
                activity(
                    ids["activity"],
                    "travel",
                    tech,
                    job,
                    travel_start,
                    actual_start,
                    "Drive to site",
                )
            )
            ids["activity"] += 1
            job["actualStart"] = d(actual_start)
            modified = max(modified, actual_start)
            if status in ("completed", "validated"):
                actual_end = min(actual_start + timedelta(minutes=rng.randint(35, 260)), gen.anchor)
                job["actualEnd"] = d(actual_end)
                batch["activity"].append(
                    activity(
                        ids["activity"],
                        "work",
                        tech,
                        job,
                        actual_start,
                        actual_end,
                        job["description"],
                    )
                )
                ids["activity"] += 1
                modified = max(modified, actual_end)
                if status == "validated":
                    validated = gen.after(actual_end, 72)
                    job["dateValidated"] = d(validated)
                    modified = max(modified, validated)
                if rng.random() < 0.65:
                    iid = ids["invoice"]
                    ids["invoice"] += 1
                    issued = gen.after(actual_end, 96)
                    inv = invoice_record(iid, nums["invoice"], job, rng, issued, gen.anchor)
                    nums["invoice"] += 1
                    batch["invoice"].append(inv)
        if rng.random() < 0.1:
            qid = ids["quotation"]
            ids["quotation"] += 1
            q = invoice_record(
                qid, nums["quotation"], job, rng, created, gen.anchor, quotation=True
            )
            nums["quotation"] += 1
            batch["quotation"].append(q)
        job["dateModified"] = d(min(modified, gen.anchor))
        batch["job"].append(job)
        if len(batch["job"]) >= 5000:
            flush()
    # clock in/out and unavailability per technician over recent weeks
    days = min(HISTORY_SPREAD, max(14, gen.n // 40))
    for day in range(days, -1, -1):
        date = (gen.anchor - timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
        if date.weekday() >= 5:
            continue
        for tech in techs:
            if rng.random() < 0.04:
                batch["activity"].append(
                    activity(
                        ids["activity"],
                        "unavailability",
                        tech,
                        None,
                        date + timedelta(hours=8),
                        date + timedelta(hours=17),
                        rng.choice(["Vacation", "Sick day", "Training"]),
                    )
                )
                ids["activity"] += 1
                continue
            clock_in = date + timedelta(hours=7, minutes=rng.randint(0, 50))
            if clock_in > gen.anchor:
                continue
            batch["activity"].append(
                activity(ids["activity"], "clockin", tech, None, clock_in, None, "")
            )
            ids["activity"] += 1
            clock_out = clock_in + timedelta(hours=8, minutes=rng.randint(0, 120))
            if clock_out <= gen.anchor:
                batch["activity"].append(
                    activity(ids["activity"], "clockout", tech, None, clock_out, None, "")
                )
                ids["activity"] += 1
    flush()
    for name in ("job", "activity", "invoice", "quotation"):
        store.set_sequence(K[name], ids[name])
    store.set_sequence("synchroteam.job_num", ids["job_num"])
    store.set_sequence("synchroteam.invoice_num", nums["invoice"])
    store.set_sequence("synchroteam.quotation_num", nums["quotation"])
    store.set_sequence(K["customer"], FIRST_IDS["customer"] + len(customers))
    store.set_sequence(K["site"], FIRST_IDS["site"] + len(sites))
    store.set_sequence(K["equipment"], FIRST_IDS["equipment"] + len(equipment))
    store.set_sequence(K["user"], FIRST_IDS["user"] + len(users))
    store.set_sequence(K["part"], FIRST_IDS["part"] + len(parts))


HISTORY_SPREAD = 270


def activity(
    aid: int,
    kind: str,
    tech: dict[str, Any],
    job: dict[str, Any] | None,
    start: datetime,
    end: datetime | None,
    comment: str,
) -> dict[str, Any]:
    return {
        "id": aid,
        "type": kind,
        "user": {"id": tech["id"], "login": tech["login"], "name": tech["name"]},
        "job": {"id": job["id"], "num": job["num"], "myId": job.get("myId")} if job else None,
        "dateStart": st_date(start),
        "dateEnd": st_date(end),
        "durationMinutes": int((end - start).total_seconds() // 60) if end else None,
        "comment": comment,
        "dateCreated": st_date(start),
        "dateModified": st_date(end or start),
    }


def invoice_record(
    rid: int,
    seq: int,
    job: dict[str, Any],
    rng: Any,
    issued: datetime,
    anchor: datetime,
    *,
    quotation: bool = False,
) -> dict[str, Any]:
    trade_parts = [p for p in PARTS if p[3] in ("Labor",)] + rng.sample(PARTS[:15], 2)
    lines = []
    for ref, name, _kind, _cat, price in rng.sample(trade_parts, rng.randint(1, 3)):
        qty = rng.choice([1, 1, 1, 2, 0.5, 1.5])
        lines.append(
            {
                "part": {
                    "id": FIRST_IDS["part"] + [p[0] for p in PARTS].index(ref),
                    "reference": ref,
                    "name": name,
                },
                "description": name,
                "quantity": qty,
                "unitPrice": price,
                "discount": 0,
                "tax": {"rate": TAX["rate"]},
                "total": round(qty * price, 2),
            }
        )
    excl = round(sum(line["total"] for line in lines), 2)
    tax = round(excl * TAX["rate"] / 100, 2)
    if quotation:
        status = rng.choice(["draft", "sent", "accepted", "declined", "accepted"])
    else:
        age = (anchor - issued).days
        status = "paid" if age > 30 or rng.random() < 0.4 else rng.choice(["sent", "sent", "draft"])
    return {
        "id": rid,
        "myId": None,
        "num": f"{'QUO' if quotation else 'INV'}-{seq:06d}",
        "status": status,
        "job": {"id": job["id"], "num": job["num"], "myId": job.get("myId")},
        "customer": job["customer"],
        ("dateQuoted" if quotation else "dateIssued"): st_date(issued),
        ("validUntil" if quotation else "dateDue"): st_date(issued + timedelta(days=30)),
        "lines": lines,
        "totalExclTax": excl,
        "totalTax": tax,
        "totalInclTax": round(excl + tax, 2),
        "currency": "USD",
        "dateCreated": st_date(issued),
        "dateModified": st_date(min(issued + timedelta(days=rng.randint(0, 20)), anchor)),
    }


NEXT_STATUS = {
    "created": "scheduled",
    "scheduled": "synchronized",
    "synchronized": "started",
    "started": "completed",
    "paused": "started",
    "completed": "validated",
}


def churn_synchroteam(v: SynchroteamSandbox, count: int, rng: Any) -> dict[str, Any]:
    """Advance jobs along their lifecycle, create new unscheduled jobs, delete one, touch a
    customer's custom field. ``dateModified`` = sandbox now."""
    sb = v.sandbox
    store = sb.store
    now = sb.clock.now()
    out: dict[str, list[int]] = {"updated": [], "created": [], "deleted": []}
    if count <= 0:
        return out
    movable = store.ids(
        K["job"],
        [Where("status IN ('created','scheduled','synchronized','started','paused','completed')")],
    )
    techs = store.select(K["user"], [Where("status = 'technician'")])
    for jid in rng.sample(movable, min(len(movable), max(count // 2, 1))):
        job = store.get(K["job"], jid)
        new_status = NEXT_STATUS[job["status"]]
        job["status"] = new_status
        tech = rng.choice(techs)
        if new_status == "scheduled":
            start = (now + timedelta(days=rng.randint(1, 10))).replace(
                hour=rng.randint(7, 15), minute=0, second=0, microsecond=0
            )
            job.update(
                technician={"id": tech["id"], "login": tech["login"], "name": tech["name"]},
                scheduledStart=st_date(start),
                scheduledEnd=st_date(start + timedelta(hours=2)),
            )
        elif new_status == "started":
            job["actualStart"] = st_date(now)
        elif new_status == "completed":
            job["actualEnd"] = st_date(now)
            if job.get("technician"):
                started = st_parse(job.get("actualStart")) or now - timedelta(hours=1)
                aid = store.next_id(K["activity"])
                store.put(
                    K["activity"],
                    activity(aid, "work", job["technician"], job, started, now, job["description"]),
                )
        elif new_status == "validated":
            job["dateValidated"] = st_date(now)
        job["dateModified"] = st_date(now)
        store.put(K["job"], job)
        out["updated"].append(jid)
    customers = store.ids(K["customer"])
    for _ in range(max(count // 4, 1)):
        cust = store.get(K["customer"], rng.choice(customers))
        jid = store.next_id(K["job"])
        num = store.next_id("synchroteam.job_num")
        job = blank_job(jid, num, now)
        type_id, type_name, _trade = rng.choice(JOB_TYPES)
        job.update(
            myId=f"WO-{num}",
            description=f"{type_name} requested",
            customer={"id": cust["id"], "myId": cust["myId"], "name": cust["name"]},
            type={"id": type_id, "name": type_name},
            customFieldValues=custom_values("job", {102: "Repair"}),
        )
        store.put(K["job"], job)
        out["created"].append(jid)
    if customers:
        cust = store.get(K["customer"], rng.choice(customers))
        cust["customFieldValues"] = merge_custom_values(
            "customer",
            cust.get("customFieldValues") or [],
            [{"label": "Preferred Contact Method", "value": rng.choice(["Phone", "Email", "SMS"])}],
        )
        cust["dateModified"] = st_date(now)
        store.put(K["customer"], cust)
    deletable = sorted(
        set(store.ids(K["job"], [Where("status IN ('created', 'cancelled')")]))
        - set(out["created"])
        - set(out["updated"])
    )
    if count >= 10 and deletable:
        jid = rng.choice(deletable)
        store.delete(K["job"], jid)
        out["deleted"].append(jid)
    return out
