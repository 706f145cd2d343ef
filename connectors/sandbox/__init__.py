"""Vendor sandbox: faithful emulators of the Syncro, Synchroteam and FieldCamp APIs.

Shared parts live in this package; each vendor's routes live in ``connectors/<vendor>/sandbox.py``.
Public API (see ``core.py`` and docs/sandbox.md)::

    from connectors.sandbox import Sandbox, SandboxConfig, FaultRule, SandboxTransport
"""

from __future__ import annotations

from typing import Any

__all__ = ["FaultRule", "Sandbox", "SandboxConfig", "SandboxTransport", "vendor_base_url"]


def __getattr__(name: str) -> Any:
    # Lazy, so that importing connectors.sandbox.accounts stays cheap and free of cycles.
    if name in ("Sandbox", "vendor_base_url"):
        from . import core

        return getattr(core, name)
    if name == "SandboxConfig":
        from .app import SandboxConfig

        return SandboxConfig
    if name == "FaultRule":
        from .faults import FaultRule

        return FaultRule
    if name == "SandboxTransport":
        from .transport import SandboxTransport

        return SandboxTransport
    raise AttributeError(name)
