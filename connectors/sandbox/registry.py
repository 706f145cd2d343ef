"""The vendor registry: emulators add themselves, the framework asks.

Each vendor package (``connectors/sandbox/<vendor>/``) decorates its :class:`~.vendor.Vendor`
subclass with :func:`register`; the framework (``core``, ``app``, ``control``) never imports a
vendor module and never branches on a vendor name. :func:`load` imports the packages listed in
:data:`VENDOR_PACKAGES` once (as Django imports ``INSTALLED_APPS``), so imports run one way
only: vendor emulators -> framework.

The order of :data:`VENDOR_PACKAGES` is the order of ``Sandbox.vendors``; it matters, because
``Sandbox.churn`` hands one seeded random generator to the vendors in turn.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from .vendor import Vendor

VENDOR_PACKAGES = (
    "connectors.sandbox.syncro",
    "connectors.sandbox.synchroteam",
    "connectors.sandbox.fieldcamp",
)

V = TypeVar("V", bound="type[Vendor]")

_registered: dict[str, type[Vendor]] = {}
_loaded = False


def register(cls: V) -> V:
    """Class decorator: make ``cls`` (a Vendor subclass with a ``name``) the emulator of
    ``cls.name``. Raises ValueError for an empty or already registered name."""
    name = cls.name
    if not name:
        raise ValueError(f"{cls.__qualname__} has no vendor name")
    if name in _registered and _registered[name] is not cls:
        raise ValueError(f"vendor {name!r} is already registered by {_registered[name]!r}")
    _registered[name] = cls
    return cls


def load() -> dict[str, type[Vendor]]:
    """Import the vendor packages (once) and return ``{vendor name: Vendor subclass}`` in
    :data:`VENDOR_PACKAGES` order."""
    global _loaded
    if not _loaded:
        for package in VENDOR_PACKAGES:
            import_module(package)
        _loaded = True

    def position(item: tuple[str, type[Vendor]]) -> int:
        module = item[1].__module__
        return next(
            (i for i, pkg in enumerate(VENDOR_PACKAGES) if module.startswith(pkg)),
            len(VENDOR_PACKAGES),
        )

    return dict(sorted(_registered.items(), key=position))


def vendor_class(name: str) -> type[Vendor]:
    """The registered emulator of ``name``. Raises ValueError for an unknown vendor."""
    try:
        return load()[name]
    except KeyError:
        raise ValueError(f"unknown vendor {name!r}") from None
