"""The vendor registry: one `Vendor` descriptor per vendor, looked up by name.

Shared code never asks "which vendor is this?": it asks the connection's descriptor
(``connection.vendor_descriptor``, i.e. ``vendor_for(connection.vendor)``) for what differs
between vendors. The shape follows healthchecks' ``TRANSPORTS`` table (``hc/api/models.py``,
resolved by ``Channel.transport``): a dict from the stored name to the code that serves it.

Each ``connectors/<vendor>/vendor.py`` builds its descriptor and its app's
``AppConfig.ready()`` passes it to `register`; so the registry is complete once Django's app
registry is ready, and this module imports nothing of the vendor packages (imports run one
way: vendor -> registry).

What a descriptor holds:

* ``name`` / ``label``: the `accounts.models.Vendor` value and its display name.
* ``client``: ``client(secret, connection, gate, transport) -> client``, the vendor client for
  one credential (no database access).
* ``streams``: the vendor's `StreamSpec` list in sync order (``connectors/<vendor>/mapping.py``).
* ``limits``: the vendor's `connectors.ratelimit.LimitPolicy` (budgets, their scope, 429 default,
  quota headers).
* ``base_url``: ``base_url(connection) -> str``, the vendor's real API host for a connection.
* ``webhook``: the inbound webhook contract (`connectors.webhooks.services.WebhookSpec`) or None.
* ``write_handlers``: the outbox handlers of ``connectors/<vendor>/writes.py``.
* ``summary``: the status-page hook (`connectors.summary.StatusSummary`).
* ``sort_order``: position of the vendor's card on the Integrations page.
* ``connect``: the portal's "Connect <vendor>" form (`ConnectSpec`), or None when the vendor
  can only be connected by an operator.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from connectors.mapping import StreamSpec
    from connectors.models import Connection
    from connectors.ratelimit import LimitPolicy
    from connectors.summary import StatusSummary
    from connectors.webhooks.services import WebhookSpec


class UnknownVendor(KeyError):
    """No descriptor is registered under this vendor name."""


@dataclass(frozen=True)
class ConnectSpec:
    """What the portal's "Connect <vendor>" form asks and how it reads the answers
    (`connectors.connect`).

    Attributes:
        account_label / account_help / account_required: the account field (Syncro "Subdomain or base URL",
            Synchroteam "Company domain", FieldCamp "Workspace name").
        parse_account: ``parse_account(text) -> (account, base_url)``; ``base_url`` "" means
            the descriptor's base-URL rule. Raises ValueError with a sentence for the form.
            A non-empty ``base_url`` is only accepted on an allowed host
            (``CONNECTORS_ALLOWED_BASE_URLS``, checked by the shared code).
        key_label / key_help: the API token or key field.
        webhook_label: a second, optional write-only field stored as the inbound
            webhook secret (``CredentialPurpose.WEBHOOK``); "" = not asked.
        identity_prefix: shown before the verified identity ("Authenticated as ").
        personal_keys: staff may add their own key (the vendor attributes writes to the
            key's user: Syncro, seed ``/syncro`` "Attribution rule").
    """

    account_label: str
    parse_account: Callable[[str], tuple[str, str]]
    key_label: str = "API key"
    account_help: str = ""
    account_required: bool = True
    key_help: str = ""
    webhook_label: str = ""
    identity_prefix: str = ""
    personal_keys: bool = False


@dataclass(frozen=True)
class Vendor:
    """Everything shared code needs to know about one vendor (see the module docstring)."""

    name: str
    label: str
    client: Callable[[str, Connection, Any, httpx.BaseTransport | None], Any]
    streams: Sequence[StreamSpec]
    limits: LimitPolicy
    base_url: Callable[[Connection], str]
    summary: StatusSummary
    webhook: WebhookSpec | None = None
    write_handlers: Sequence[Any] = ()
    sort_order: int = 100
    connect: ConnectSpec | None = None

    def stream(self, resource: str) -> StreamSpec:
        """The stream named `resource`.

        Raises:
            KeyError: the vendor has no such stream.
        """
        for spec in self.streams:
            if spec.resource == resource:
                return spec
        raise KeyError(f"{self.name} has no stream {resource!r}")


_VENDORS: dict[str, Vendor] = {}


def register(descriptor: Vendor) -> Vendor:
    """Add (or replace) the descriptor of ``descriptor.name``; returns it."""
    _VENDORS[descriptor.name] = descriptor
    return descriptor


def vendor_for(name: str) -> Vendor:
    """The descriptor of vendor `name` (an `accounts.models.Vendor` value).

    Raises:
        UnknownVendor: nothing is registered under `name` (the vendor's app is not installed,
            or Django's app registry is not ready yet).
    """
    try:
        return _VENDORS[str(name)]
    except KeyError:
        raise UnknownVendor(f"No vendor descriptor for {name!r}.") from None


def all_vendors() -> list[Vendor]:
    """Every registered descriptor, in ``sort_order`` (the Integrations page's order)."""
    return sorted(_VENDORS.values(), key=lambda v: (v.sort_order, v.name))


__all__ = ["ConnectSpec", "UnknownVendor", "Vendor", "all_vendors", "register", "vendor_for"]
