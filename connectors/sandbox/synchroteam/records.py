"""Synchroteam vocabulary, dates, indexed columns, custom fields and record builders
(shared by the routes, the generator and churn)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from connectors.sandbox import accounts
from connectors.sandbox.clock import parse_instant, sortable_text
from connectors.sandbox.store import register_kind
from connectors.sandbox.web import Reply, json_response
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
        "depot",
        "stockpart",
        "partmovement",
        "partrequest",
    )
}


def st_date(dt: datetime | None) -> str | None:
    """Synchroteam's naive ``YYYY-MM-DD HH:MM:SS`` (UTC by the sandbox's decision), None for None."""
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
    """``customFieldValues`` of ``resource`` from ``{field id: value}`` (unknown ids dropped)."""
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


def st_error(message: str, status: int) -> Reply:
    """A ``Reply`` with ASP.NET's ``{"message"}`` body."""
    return Reply(json_response({"message": message}, status))


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
    "depot": 910_001,
    "stockpart": 920_001,
    "partmovement": 930_001,
    "partrequest": 940_001,
}


HISTORY_SPREAD = 270


def blank_job(rid: int, num: int, now: datetime) -> dict[str, Any]:
    """A new job in status ``created`` with every field the vendor returns, empty."""
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


def activity(
    aid: int,
    kind: str,
    tech: dict[str, Any],
    job: dict[str, Any] | None,
    start: datetime,
    end: datetime | None,
    comment: str,
) -> dict[str, Any]:
    """An activity of ``kind`` (clockin, clockout, travel, work, unavailability) by ``tech``, on ``job`` if given."""
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
    """An invoice (or, with ``quotation``, a quotation) of ``job``: 1-3 lines drawn from the
    labor services and two random parts, 7.25 % tax, status by age (invoices: paid, sent,
    draft; quotations: draft, sent, accepted, declined)."""
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


ADDRESS_KEYS = (
    "address",
    "addressStreet",
    "addressCity",
    "addressProvince",
    "addressZIP",
    "addressCountry",
    "position",
)
