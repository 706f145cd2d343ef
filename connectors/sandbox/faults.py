"""Fault injection rules.

A rule matches requests by vendor, method and a glob on the *vendor-relative* path (what follows
``/api/v1`` or ``/api/v3``, e.g. ``/tickets/*/comment``, ``/job/send``; Synchroteam paths are
matched lower-cased) and fires on every Nth match (``every``) and/or with a ``probability``
(seeded, so a run is reproducible), at most ``times`` times.

Actions (``action``):

=========================  ==========================================================================
``latency``                add ``seconds`` (default 0.5) before the response is delivered; the write
                           (if any) is committed
``timeout_after_commit``   commit, then hold the response ``seconds`` (default
                           ``SandboxConfig.timeout_delay_seconds``) so the client times out
``reset_after_commit``     commit, then reset the TCP connection (RST) without a response
``error_before_commit``    answer ``status`` (500/502/503, default 503) and change nothing
``error_after_commit``     commit, then answer ``status`` (default 500) instead of the real response
``malformed_json``         commit, then answer 200 with a body that is not valid JSON
``truncated_json``         commit, then answer 200 with the real body cut in half
``rate_limit_burst``       answer the vendor's own 429 to this and the next ``count - 1`` matching
                           requests (default ``count`` 5); nothing is committed
=========================  ==========================================================================

Latency, timeouts and resets travel from the WSGI app to the HTTP layer as a response header
(``X-Sandbox-Fault``), which the loopback server (``server.py``) and the in-process transport
(``transport.py``) turn into the real network behaviour and strip before the client sees it.

String syntax (CLI ``--fault`` and the control endpoint's ``{"rule": "..."}``)::

    <vendor|*> <METHOD|*> <path-glob> <action> [key=value ...]
    syncro POST /tickets/*/comment timeout_after_commit every=2 times=1
    synchroteam * /job/list rate_limit_burst probability=0.05 count=3
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

ACTIONS = (
    "latency",
    "timeout_after_commit",
    "reset_after_commit",
    "error_before_commit",
    "error_after_commit",
    "malformed_json",
    "truncated_json",
    "rate_limit_burst",
)
BEFORE_COMMIT = ("error_before_commit", "rate_limit_burst")
FAULT_HEADER = "X-Sandbox-Fault"


@dataclass
class FaultRule:
    """One fault rule. ``every=None`` and ``probability=None`` means every match fires."""

    action: str
    vendor: str = "*"
    method: str = "*"
    path: str = "*"
    every: int | None = None
    probability: float | None = None
    times: int | None = None
    seconds: float | None = None
    status: int | None = None
    count: int = 5
    id: int = 0
    matched: int = field(default=0)
    fired: int = field(default=0)

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; one of {', '.join(ACTIONS)}")
        if self.every is not None and self.every < 1:
            raise ValueError("every must be >= 1")
        if self.probability is not None and not 0 <= self.probability <= 1:
            raise ValueError("probability must be within [0, 1]")
        if self.status is not None and not 400 <= self.status <= 599:
            raise ValueError("status must be an HTTP error status")
        self.method = self.method.upper()
        self.vendor = self.vendor.lower()

    @classmethod
    def parse(cls, text: str) -> FaultRule:
        """Parse the string syntax shown in the module docstring. Raises ValueError."""
        parts = text.split()
        if len(parts) < 4:
            raise ValueError("fault rule needs: <vendor> <METHOD> <path-glob> <action> [k=v ...]")
        vendor, method, path, action, *opts = parts
        kwargs: dict[str, Any] = {}
        for opt in opts:
            key, _, value = opt.partition("=")
            if key in ("every", "times", "status", "count"):
                kwargs[key] = int(value)
            elif key in ("probability", "seconds"):
                kwargs[key] = float(value)
            else:
                raise ValueError(f"unknown fault option {key!r}")
        return cls(action=action, vendor=vendor, method=method, path=path, **kwargs)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        """A rule from its JSON object form. Raises ValueError for unknown fields or a bad action."""
        allowed = {
            "action",
            "vendor",
            "method",
            "path",
            "every",
            "probability",
            "times",
            "seconds",
            "status",
            "count",
        }
        unknown = set(data) - allowed - {"id", "matched", "fired"}
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**{k: v for k, v in data.items() if k in allowed})

    def to_dict(self) -> dict[str, Any]:
        """The rule (with its counters) as a JSON-ready dict."""
        return asdict(self)

    def matches(self, vendor: str, method: str, path: str) -> bool:
        """True if the rule applies to ``vendor``, ``method`` and the vendor-relative ``path`` (glob)."""
        return (
            self.vendor in ("*", vendor)
            and self.method in ("*", method)
            and fnmatch.fnmatchcase(path, self.path)
        )


@dataclass(frozen=True)
class FaultDecision:
    """What to do to one request: ``action`` and its parameters, plus accumulated latency."""

    action: str | None
    rule_id: int | None = None
    seconds: float | None = None
    status: int | None = None
    latency: float = 0.0

    @property
    def label(self) -> str | None:
        """What the ledger records as the request's fault (``"latency:0.5s"``, an action name, or None)."""
        if self.action is None:
            return f"latency:{self.latency:g}s" if self.latency else None
        return self.action


class FaultSet:
    """The active rules, thread-safe. ``seed`` makes probabilistic rules reproducible."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._rngs: dict[int, random.Random] = {}
        self._bursts: dict[int, int] = {}
        self._next_id = 1

    def add(self, rule: FaultRule | str | dict[str, Any]) -> FaultRule:
        """Add a rule (object, string syntax or dict); returns it with its ``id``."""
        if isinstance(rule, str):
            rule = FaultRule.parse(rule)
        elif isinstance(rule, dict):
            rule = FaultRule.from_dict(rule)
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
            self._rngs[rule.id] = random.Random(f"{self.seed}:{rule.id}")
        return rule

    def remove(self, rule_id: int) -> bool:
        """Remove rule ``rule_id``; False when there is none."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            self._bursts.pop(rule_id, None)
            return len(self._rules) != before

    def clear(self) -> None:
        """Remove every rule."""
        with self._lock:
            self._rules.clear()
            self._bursts.clear()

    def rules(self) -> list[FaultRule]:
        """The active rules, oldest first."""
        with self._lock:
            return list(self._rules)

    def decide(self, vendor: str, method: str, path: str) -> FaultDecision:
        """Count this request against every matching rule and return the fault to apply."""
        latency = 0.0
        chosen: FaultRule | None = None
        with self._lock:
            for rule in self._rules:
                if not rule.matches(vendor, method, path):
                    continue
                rule.matched += 1
                if rule.action == "rate_limit_burst" and self._bursts.get(rule.id, 0) > 0:
                    self._bursts[rule.id] -= 1
                    chosen = chosen or rule
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                fire = True
                if rule.every is not None:
                    fire = rule.matched % rule.every == 0
                if fire and rule.probability is not None:
                    fire = self._rngs[rule.id].random() < rule.probability
                if not fire:
                    continue
                if rule.action == "latency":
                    rule.fired += 1
                    latency += rule.seconds if rule.seconds is not None else 0.5
                    continue
                if chosen is None:
                    rule.fired += 1
                    chosen = rule
                    if rule.action == "rate_limit_burst":
                        self._bursts[rule.id] = max(rule.count - 1, 0)
        if chosen is None:
            return FaultDecision(None, latency=latency)
        return FaultDecision(
            chosen.action,
            rule_id=chosen.id,
            seconds=chosen.seconds,
            status=chosen.status,
            latency=latency,
        )


def parse_fault_header(value: str | None) -> tuple[str | None, float]:
    """``("timeout", 65.0)``, ``("reset", 0.0)``, ``("latency", 0.5)`` or ``(None, 0.0)``."""
    if not value:
        return None, 0.0
    kind, _, rest = value.partition(";")
    seconds = 0.0
    if "seconds=" in rest:
        seconds = float(rest.split("seconds=")[1])
    return kind.strip(), seconds
