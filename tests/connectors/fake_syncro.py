"""A minimal in-memory Syncro for engine unit tests (the sandbox is the full emulator).

Tickets only, 50 per page, ``since_updated_at`` filter, ``meta.total_pages``; every other list
is empty. It records each request so tests assert on what the vendor received.
"""

from __future__ import annotations

import datetime as dt
import json

import httpx

EPOCH = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)


def z(value: dt.datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeSyncro:
    page_size = 50

    def __init__(self, n: int = 120) -> None:
        self.tickets: dict[int, dict] = {}
        self.requests: list[httpx.Request] = []
        self.queue: list[httpx.Response] = []  # responses served before the normal ones
        self.clock = EPOCH
        for i in range(1, n + 1):
            self.add(i)

    def tick(self, seconds: int = 60) -> dt.datetime:
        self.clock += dt.timedelta(seconds=seconds)
        return self.clock

    def add(self, i: int, **fields) -> dict:
        stamp = z(self.clock - dt.timedelta(days=30) + dt.timedelta(minutes=i))
        record = {
            "id": 1000 + i,
            "number": str(5000 + i),
            "subject": f"Ticket {i}",
            "status": "New" if i % 3 else "In Progress",
            "customer_id": 10 + i % 7,
            "customer_business_then_name": f"Customer {i % 7}",
            "user_id": 1735 + i % 2,
            "created_at": stamp,
            "updated_at": stamp,
            "properties": {"PO": f"PO-{i}"},
            **fields,
        }
        self.tickets[record["id"]] = record
        return record

    def touch(self, ticket_id: int, **fields) -> None:
        self.tick(1)
        self.tickets[ticket_id].update(fields, updated_at=z(self.clock))

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.queue:
            return self.queue.pop(0)
        path = request.url.path.split("/api/v1/", 1)[1]
        if path == "me":
            return httpx.Response(200, json={"user_id": 1735, "user_name": "Michael Swanson"})
        if path == "tickets":
            items = sorted(self.tickets.values(), key=lambda t: t.get("id", 0))
            since = request.url.params.get("since_updated_at")
            if since:
                cut = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
                items = [
                    t
                    for t in items
                    if isinstance(t.get("updated_at"), str)
                    and dt.datetime.fromisoformat(t["updated_at"].replace("Z", "+00:00")) > cut
                ]
            page = int(request.url.params.get("page", 1))
            total_pages = max(1, -(-len(items) // self.page_size))
            chunk = items[(page - 1) * self.page_size : page * self.page_size]
            return httpx.Response(
                200,
                content=json.dumps(
                    {"tickets": chunk, "meta": {"total_pages": total_pages, "page": page}}
                ),
                headers={"Content-Type": "application/json"},
            )
        key = path.split("/")[-1]
        return httpx.Response(200, json={key: [], "meta": {"total_pages": 1, "page": 1}})

    def ticket_pages_requested(self) -> list[int]:
        return [
            int(r.url.params.get("page", 1))
            for r in self.requests
            if r.url.path.endswith("/tickets")
        ]
