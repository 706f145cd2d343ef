"""Vendor sandbox: faithful emulators of the Syncro, Synchroteam and FieldCamp APIs.

The framework lives in this package (store, clock, faults, ledger, rate limits, data-generation
helpers, the werkzeug-based WSGI app and control plane, the loopback server); each vendor's
emulator lives in its own subpackage (``syncro/``, ``synchroteam/``, ``fieldcamp/``) and adds
itself to ``registry.py``. Imports run one way: vendor emulators -> framework. Public API (see
``core.py`` and docs/sandbox.md)::

    from connectors.sandbox import Sandbox, SandboxConfig, FaultRule, SandboxTransport
"""

from __future__ import annotations

from typing import Any

__all__ = ["FaultRule", "Sandbox", "SandboxConfig", "SandboxTransport", "vendor_base_url"]


def __getattr__(name: str) -> Any:
    # Lazy, so that importing connectors.sandbox.accounts (the demo's credentials) stays cheap.
    if name in ("Sandbox", "vendor_base_url"):
        from . import core

        return getattr(core, name)
    if name == "SandboxConfig":
        from .config import SandboxConfig

        return SandboxConfig
    if name == "FaultRule":
        from .faults import FaultRule

        return FaultRule
    if name == "SandboxTransport":
        from .transport import SandboxTransport

        return SandboxTransport
    raise AttributeError(name)
