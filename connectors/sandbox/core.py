"""``Sandbox``: the one object that owns the store, clock, config, faults, ledger, the vendor
emulators (one per registered vendor, see ``registry.py``) and the WSGI app. Everything else in
the package hangs off it.

In-process use (tests)::

    from connectors.sandbox import Sandbox, SandboxConfig

    sb = Sandbox.create(seed=7, scale="small", clock_start="2026-05-01T09:00:00Z", frozen=True)
    client = sb.client("syncro", user_id=1750)          # httpx.Client via SandboxTransport
    client.get("/tickets").json()["tickets"]
    sb.faults.add("syncro POST /tickets/*/comment timeout_after_commit times=1")
    sb.ledger.writes(vendor="syncro", method="POST")
    sb.syncro.ticket_records(ticket_id)                 # comments/line items/timers/invoices
    sb.vendors["synchroteam"]                           # the same emulator, by name

Over loopback: ``python manage.py runsandbox`` (``server.py``).
"""

from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from .app import SandboxApp
from .clock import SandboxClock, iso_z, utcnow
from .config import SandboxConfig
from .datagen import generate
from .faults import FaultSet
from .ledger import Ledger
from .registry import load as load_vendors
from .registry import vendor_class
from .store import Store
from .transport import SandboxTransport

if TYPE_CHECKING:
    from .vendor import Vendor

IN_PROCESS_BASE = "http://sandbox.invalid"


def vendor_base_url(vendor: str, root: str = IN_PROCESS_BASE) -> str:
    """Base URL a client uses for ``vendor`` when the sandbox is at ``root``
    (``http://sandbox.invalid/syncro/demo/api/v1``). Raises ValueError for an unknown vendor."""
    return root.rstrip("/") + vendor_class(vendor).base_path()


class Sandbox:
    """The vendor sandbox. Build with :meth:`create`.

    ``vendors`` maps each registered vendor name to its emulator; ``sb.<name>`` (``sb.syncro``)
    is the same object.
    """

    def __init__(
        self,
        store: Store,
        *,
        clock: SandboxClock | None = None,
        config: SandboxConfig | None = None,
        seed: int = 1,
    ) -> None:
        self.store = store
        self.config = config or SandboxConfig()
        self.seed = seed
        self.clock = clock or self._restore_clock()
        self.faults = FaultSet(seed)
        self.ledger = Ledger(store)
        self.vendors: dict[str, Vendor] = {
            name: factory(self) for name, factory in load_vendors().items()
        }
        self.app = SandboxApp(self)
        self._counts: dict[str, int] = {}
        self._counts_lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        # sb.syncro, sb.synchroteam, ...: the emulator registered under that name.
        vendors = self.__dict__.get("vendors", {})
        if name in vendors:
            return vendors[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute or vendor {name!r}")

    # --- construction ------------------------------------------------------------------------
    @classmethod
    def create(
        cls,
        path: str | Path | None = None,
        *,
        seed: int = 1,
        scale: str | int = "small",
        clock_start: datetime | str | None = None,
        frozen: bool = False,
        config: SandboxConfig | None = None,
        reset: bool = False,
        generate: bool = True,
    ) -> Sandbox:
        """Open (or create) a sandbox.

        ``path`` None = in-memory. Data is generated when the store is empty or ``reset`` is
        true; an existing file keeps its data (and clock) otherwise. ``clock_start`` fixes the
        sandbox's "now" (data timestamps are spread over the months before it), which with
        ``seed`` and ``scale`` makes the data set deterministic. ``frozen`` stops the clock
        until advanced.
        """
        store = Store(path)
        clock = SandboxClock(clock_start, frozen=frozen) if clock_start is not None else None
        if clock is None and frozen:
            clock = SandboxClock(frozen=True)
        sb = cls(store, clock=clock, config=config, seed=seed)
        if reset or (generate and not store.meta_get("generated")):
            sb.reset(seed=seed, scale=scale)
        return sb

    def _restore_clock(self) -> SandboxClock:
        saved = self.store.meta_get("clock")
        if not saved:
            return SandboxClock()
        if saved.get("frozen"):
            return SandboxClock(saved["now"], frozen=True)
        return SandboxClock(utcnow() + timedelta(seconds=saved.get("offset", 0.0)))

    def save_clock(self) -> None:
        """Persist the clock so a restarted sandbox keeps its time."""
        now = self.clock.now()
        self.store.meta_set(
            "clock",
            {
                "now": iso_z(now),
                "frozen": self.clock.frozen,
                "offset": (now - utcnow()).total_seconds(),
            },
        )

    # --- data --------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, scale: str | int | None = None) -> dict[str, int]:
        """Wipe everything (records, ledger, limits, faults stay) and regenerate."""
        seed = self.seed if seed is None else seed
        scale = scale if scale is not None else (self.store.meta_get("scale") or "small")
        self.seed = seed
        self.faults.seed = seed
        with self.store.lock:
            self.store.wipe()
            counts = generate(self, seed=seed, scale=scale)
            self.store.meta_set("generated", True)
            self.store.meta_set("seed", seed)
            self.store.meta_set("scale", scale)
            self.store.meta_set("anchor", iso_z(self.clock.now()))
            self.save_clock()
        for vendor in self.vendors.values():
            vendor.reset_limits()
        return counts

    def churn(self, count: int = 20, *, seed: int | None = None) -> dict[str, Any]:
        """Change, create and delete about ``count`` records per vendor "now" (sandbox clock),
        so incremental syncs have something to find. Returns what changed per vendor."""
        n = self.store.meta_get("churns", 0) + 1
        rng = random.Random(f"{self.seed if seed is None else seed}:churn:{n}")
        out: dict[str, Any] = {}
        with self.store.lock, self.store.transaction():
            for name, vendor in self.vendors.items():
                out[name] = vendor.churn(count, rng)
            self.store.meta_set("churns", n)
        return out

    def configure(self, **changes: Any) -> SandboxConfig:
        """Change settings (see :class:`SandboxConfig`) at run time."""
        self.config = self.config.replace(**changes)
        return self.config

    # --- HTTP --------------------------------------------------------------------------------
    def transport(self) -> SandboxTransport:
        """An httpx transport over this sandbox's WSGI app (in-process, no socket)."""
        return SandboxTransport(self.app)

    def client(
        self,
        vendor: str,
        *,
        user_id: int | None = None,
        token: str | None = None,
        auth: str = "bearer",
        timeout: float = 10.0,
        client_addr: str = "127.0.0.1",
    ) -> httpx.Client:
        """An ``httpx.Client`` bound to ``vendor``'s base URL through the in-process transport,
        authenticated with the demo credentials (Syncro: ``user_id``'s token, default the shared
        one, sent as ``Authorization: Bearer`` or, with ``auth="query"``, as ``api_key``)."""
        base_url = vendor_base_url(vendor)
        options = self.vendors[vendor].client_options(user_id=user_id, token=token, auth=auth)
        headers = {"Accept": "application/json", **options.pop("headers", {})}
        return httpx.Client(
            base_url=base_url,
            transport=SandboxTransport(self.app, client_addr=client_addr),
            headers=headers,
            timeout=timeout,
            **options,
        )

    # --- bookkeeping -------------------------------------------------------------------------
    def now_iso(self) -> str:
        """The sandbox clock's now as ``2026-05-01T09:00:00.000Z``."""
        return iso_z(self.clock.now(), millis=True)

    def count_request(self, vendor: str) -> None:
        """Count one request received for ``vendor``."""
        with self._counts_lock:
            self._counts[vendor] = self._counts.get(vendor, 0) + 1

    def request_counts(self) -> dict[str, int]:
        """Requests received per vendor since this object was made."""
        with self._counts_lock:
            return dict(self._counts)

    def info(self, root: str = IN_PROCESS_BASE) -> dict[str, Any]:
        """What ``GET /_sandbox/`` answers: clock, seed, scale, record and request counts,
        vendor base URLs under ``root``, active faults."""
        return {
            "clock": self.clock.to_dict(),
            "seed": self.store.meta_get("seed"),
            "scale": self.store.meta_get("scale"),
            "records": self.store.counts_by_kind(),
            "requests": self.request_counts(),
            "vendors": {name: vendor_base_url(name, root) for name in self.vendors},
            "faults": [r.to_dict() for r in self.faults.rules()],
        }

    def close(self) -> None:
        """Close the store (the object is unusable afterwards)."""
        self.store.close()
