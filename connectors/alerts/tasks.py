"""django-q2 entry point of the ``alerts:evaluate`` schedule (made by `connectors.schedules`;
the ``func`` stored there is this dotted path: keep the name)."""

from __future__ import annotations

from connectors.alerts.services import evaluate_all


def evaluate() -> int:
    """Schedule entry point: evaluate every tenant's alerts. Returns how many opened."""
    return evaluate_all()
