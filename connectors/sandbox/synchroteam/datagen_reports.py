"""Job photos and job reports for the Synchroteam sandbox, derived from each job.

They are not drawn from the generator's shared ``random.Random`` (that would reorder its draws
and move every seeded figure, see docs/sandbox.md "Data"): each job's photos and report come
from a ``random.Random`` seeded with the sandbox seed and the job id, so they are
deterministic per ``(seed, job)``, stable across churn, and cost nothing at generation time.
"""

from __future__ import annotations

import random
import struct
import zlib
from datetime import timedelta
from typing import Any

from .records import TRADE_TEMPLATES, st_date, st_parse

#: Statuses in which a technician has been on site (photos and a report exist).
WORKED = ("started", "paused", "completed", "validated")

#: Report items per trade: ``(name, type, choices or None)``; types follow Synchroteam's report
#: blocks (text, number, yesno, list). Names are the ones a field tech fills in.
REPORT_ITEMS: dict[str, list[tuple[str, str, list[str] | None]]] = {
    "HVAC": [
        ("Refrigerant type", "list", ["R-410A", "R-22", "R-32", "R-454B"]),
        ("Suction pressure (psi)", "number", None),
        ("Supply air temperature (F)", "number", None),
        ("Filter replaced", "yesno", None),
        ("Technician notes", "text", None),
    ],
    "Plumbing": [
        ("Water pressure (psi)", "number", None),
        ("Leak found", "yesno", None),
        ("Pipe material", "list", ["Copper", "PEX", "PVC", "Galvanized"]),
        ("Technician notes", "text", None),
    ],
    "Electrical": [
        ("Panel rating (A)", "list", ["100", "150", "200", "400"]),
        ("Voltage measured (V)", "number", None),
        ("GFCI tested", "yesno", None),
        ("Permit number", "text", None),
        ("Technician notes", "text", None),
    ],
}

NOTES = [
    "Work completed, customer walked through the system.",
    "Cleaned area, old parts left with customer.",
    "Recommend follow-up visit in 6 months.",
    "Access via side gate, customer present.",
]

PHOTO_COMMENTS = ["Before", "After", "Nameplate", "Damage found", "Meter reading", ""]

#: Photo ids are ``job id * PHOTO_ID_FACTOR + n`` so a photo id names its job.
PHOTO_ID_FACTOR = 100


def _rng(seed: int, job_id: int, what: str) -> random.Random:
    return random.Random(f"{seed}:{what}:{job_id}")


def _trade(job: dict[str, Any]) -> str:
    template = (job.get("reportTemplate") or {}).get("id")
    for trade, (tid, _name) in TRADE_TEMPLATES.items():
        if tid == template:
            return trade
    return "HVAC"


def _start(job: dict[str, Any]):
    return st_parse(job.get("actualStart") or job.get("scheduledStart") or job.get("dateCreated"))


def job_photos(seed: int, job: dict[str, Any]) -> list[dict[str, Any]]:
    """The job's photos ``[{id, jobId, name, comment, dateTaken, width, height, user}]`` (0-4,
    only for jobs in :data:`WORKED` statuses), deterministic per ``(seed, job id)``."""
    if job.get("status") not in WORKED:
        return []
    rng = _rng(seed, job["id"], "photos")
    start = _start(job)
    photos = []
    for n in range(1, rng.randint(0, 4) + 1):
        taken = start + timedelta(minutes=rng.randint(5, 120)) if start else None
        photos.append(
            {
                "id": job["id"] * PHOTO_ID_FACTOR + n,
                "jobId": job["id"],
                "name": f"IMG_{job['num']}_{n}.png",
                "comment": rng.choice(PHOTO_COMMENTS),
                "dateTaken": st_date(taken),
                "width": 16,
                "height": 16,
                "user": job.get("technician"),
            }
        )
    return photos


def photo_png(seed: int, photo_id: int) -> bytes:
    """A small (16x16) PNG of one flat colour picked per ``(seed, photo id)``."""
    r, g, b = (_rng(seed, photo_id, "pixel").randrange(256) for _ in range(3))
    raw = b"".join(b"\x00" + bytes((r, g, b)) * 16 for _ in range(16))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    header = struct.pack(">IIBBBBB", 16, 16, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def job_report(seed: int, job: dict[str, Any]) -> dict[str, Any] | None:
    """The job's report, or None when the job has none (not yet started, or cancelled):
    ``{id, job: {id, num, myId}, reportTemplate, status, dateCreated, dateModified, items:
    [{name, type, value}]}`` with the items of the job's trade (:data:`REPORT_ITEMS`); a
    started or paused job's report is a draft with the later items still empty."""
    if job.get("status") not in WORKED:
        return None
    rng = _rng(seed, job["id"], "report")
    items = []
    spec = REPORT_ITEMS[_trade(job)]
    done = job["status"] in ("completed", "validated")
    filled = len(spec) if done else rng.randint(1, len(spec) - 1)
    for i, (name, kind, choices) in enumerate(spec):
        value: Any = None
        if i < filled:
            if kind == "number":
                value = str(round(rng.uniform(20, 250), 1))
            elif kind == "yesno":
                value = rng.choice(["yes", "no"])
            elif kind == "list":
                value = rng.choice(choices or [""])
            else:
                value = (
                    rng.choice(NOTES)
                    if name == "Technician notes"
                    else f"P-{rng.randint(10000, 99999)}"
                )
        items.append({"name": name, "type": kind, "value": value})
    start = _start(job)
    return {
        "id": job["id"],
        "job": {"id": job["id"], "num": job["num"], "myId": job.get("myId")},
        "reportTemplate": job.get("reportTemplate"),
        "status": "closed" if done else "draft",
        "dateCreated": st_date(start),
        "dateModified": job.get("dateModified"),
        "items": items,
    }
