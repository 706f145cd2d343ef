"""The generic ``<resource>/list|details|send|delete`` routes (vendor-apis.md §2.4) and the
resource table they serve."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.sandbox.clock import parse_instant, sortable
from connectors.sandbox.store import Where, as_int
from connectors.sandbox.vendor import Ctx, route
from connectors.sandbox.web import Reply, Response, json_response, raw_json_response

from .records import (
    ACTIVITY_TYPES,
    CUSTOM_FIELDS,
    FIRST_IDS,
    JOB_TYPES,
    STATUSES,
    K,
    blank_job,
    merge_custom_values,
    st_date,
    st_error,
)


@dataclass
class Resource:
    """One ``<name>/list|details|send|delete`` resource."""

    name: str
    filters: dict[str, Callable[[str], Where]] = field(default_factory=dict)
    ignored_filters: tuple[str, ...] = ()
    lookups: tuple[str, ...] = ("id", "myId")

    @property
    def kind(self) -> str:
        """The store kind (``synchroteam.<name>``)."""
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


def _changed_since(value: str) -> Where:
    """``changedSince=YYYY-MM-DD HH:MM:SS``: records whose ``dateModified`` is at or after it."""
    return Where("updated_at >= ?", (sortable(parse_instant(value)),))


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
        # inventory (connectors/sandbox/synchroteam/stock.py): filters per the MCP readings in
        # README "Synchroteam inventory"; changedSince is on dateModified
        Resource("depot", {"userId": _eq("user_id", int)}),
        Resource(
            "stockpart",
            {"depotId": _eq("parent_id", int), "partId": _eq("customer_id", int)},
            lookups=("id",),
        ),
        Resource(
            "partmovement",
            {
                "changedSince": _changed_since,
                "partId": _eq("customer_id", int),
                "jobId": _eq("ref", str),
            },
            lookups=("id",),
        ),
        Resource(
            "partrequest",
            {"changedSince": _changed_since, "status": _status_in, "userId": _eq("user_id", int)},
        ),
    ]
}


class ResourceRoutes:
    """Mixin of :class:`~.emulator.SynchroteamSandbox`: list (``page``/``pageSize``/
    ``recordsTotal``/``data``), details, delete and send (upsert by ``id``/``myId``)."""

    sandbox: Any

    # --- generic resource endpoints ----------------------------------------------------------
    def _resource(self, ctx: Ctx) -> Resource:
        res = RESOURCES.get(ctx.req.view_args["resource"].lower())
        if res is None:
            raise Reply(self.unknown_route(ctx.req))
        return res

    def _paging(self, ctx: Ctx, body: dict[str, Any] | None = None) -> tuple[int, int]:
        cfg = self.sandbox.config
        source = body or {}

        def val(name: str) -> int | None:
            raw = ctx.req.args.get(name) if ctx.req.args.get(name) is not None else source.get(name)
            number = as_int(raw)
            if raw is not None and number is None:
                raise st_error(f"The value '{str(raw)[:40]}' is not valid for {name}.", 400)
            return number

        page = max(val("page") or 1, 1)
        size = val("pageSize") or cfg.synchroteam_default_page_size
        return page, min(max(size, 1), cfg.synchroteam_max_page_size)

    @route("GET", "/{resource}/list")
    def list_(self, ctx: Ctx) -> Response:
        """``GET <resource>/list?page=&pageSize=&<filters>`` -> ``{"page", "pageSize",
        "recordsTotal", "data"}`` (vendor-apis.md §2.4). Job filters: ``status`` (comma list),
        ``dateFrom``/``dateTo`` (on ``scheduledStart``), ``validatedSince``, ``customerId``,
        ``technicianId``."""
        if ctx.req.view_args["resource"].lower() == "customfield":
            raise Reply(self.wrong_method(ctx.req))
        res = self._resource(ctx)
        where: list[Where] = []
        for name, build in res.filters.items():
            value = ctx.req.args.get(name)
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
                number = as_int(value)
                record = ctx.store.get(res.kind, number) if number is not None else None
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
        return json_response(self._lookup(ctx, res, {k: v for k, v in ctx.req.args.items()}))

    @route("DELETE", "/{resource}/delete")
    def delete(self, ctx: Ctx) -> Response:
        """``DELETE <resource>/delete?id=`` (or ``myId``/``num``, in the query or a JSON body, as
        BenN182 sends it). Answers ``{"id": <deleted id>}``."""
        res = self._resource(ctx)
        source = {k: v for k, v in ctx.req.args.items()}
        body = ctx.req.json_body()
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
        body = ctx.req.json_body()
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
