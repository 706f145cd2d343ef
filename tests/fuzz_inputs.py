"""What the URLconf fuzz test (tests/test_fuzz_urls.py) sends: the parameter names the product
reads, hypothesis strategies for their values, and the extreme values of the boundary pass."""

from __future__ import annotations

import inspect
import re

from django.conf import settings as django_settings
from hypothesis import strategies as st


def product_keys() -> list[str]:
    """Every parameter name the product reads: the fields of its forms and the literal keys of
    ``request.GET`` / ``request.POST`` in its views."""
    from django import forms

    names: set[str] = set()
    stack = [forms.BaseForm]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in ("accounts", "billing", "connectors", "dispatch"):
            names |= set(getattr(cls, "base_fields", {}))
    base = django_settings.BASE_DIR
    for app in ("accounts", "billing", "connectors", "dispatch"):
        for path in (base / app).rglob("*.py"):
            text = path.read_text()
            names |= set(_READS.findall(text))
    return sorted(names)


FIELD_NAME = re.compile(rb'name="([\w\-]+)"|[?&;]([a-z_]+)=')
_READS = re.compile(r"(?:GET|POST|params|data)(?:\.get|\.getlist|\[)\(?\"(\w+)\"")


def view_keys(route) -> set[str]:
    """The parameter names the route's view function reads (its own source)."""
    try:
        return set(_READS.findall(inspect.getsource(inspect.unwrap(route.callback))))
    except (OSError, TypeError):
        return set()


DATES = st.sampled_from(
    [
        "9999-12-31",
        "0001-01-01",
        "10000-01-01",
        "2026-02-30",
        "2026-13-01",
        "1900-01-01",
        "9999-12-31T23:59",
        "0001-01-01T00:00",
        "2026-03-08T02:30",
        "2100-12-31",
        "2020-01-01",
    ]
) | st.dates().map(lambda d: d.isoformat())
NUMBERS = (
    st.integers(min_value=-(10**30), max_value=10**30).map(str)
    | st.sampled_from(["-5", "0", "-0", "1e309", "NaN", "inf", "-inf", "1.5", "0x10", "٣", "²"])
    | st.floats(allow_nan=True, allow_infinity=True).map(str)
)
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    [
        "x" * 20000,
        "é" * 3000,
        "\x00",
        "' OR 1=1 --",
        "<script>alert(1)</script>",
        "=cmd|' /C calc'!A0",
        "../../etc/passwd",
        " ",
        "\u202e",
        "😀" * 50,
    ]
)
LITERALS = st.sampled_from(
    [
        "csv",
        "day",
        "week",
        "row",
        "writes",
        "counts",
        "guard",
        "1",
        "yes",
        "on",
        "true",
        "confirm",
        "preview",
        "full",
        "incremental",
        "all",
        "pending",
        "approved",
        "remote",
        "onsite",
        "syncro",
        "synchroteam",
        "fieldcamp",
        "owner",
        "technician",
        "1h",
        "1d",
        "1w",
        "mark_done",
        "send_again",
        "cancel",
        "UTC",
        "Europe/Paris",
        "internal",
        "public_email",
    ]
)
MALFORMED_UUIDS = st.sampled_from(
    ["abc", "00000000-0000-0000-0000-00000000000g", "{}", "1" * 40, "abc:def", ":" * 3]
) | st.uuids().map(str)
RAW_BYTES = st.binary(min_size=1, max_size=40)


def values_for(known_ids: list) -> st.SearchStrategy:
    ids = st.sampled_from([str(v) for v in known_ids]) if known_ids else st.nothing()
    return st.one_of(
        DATES,
        DATES,
        NUMBERS,
        NUMBERS,
        TEXT,
        LITERALS,
        MALFORMED_UUIDS,
        ids,
        ids.map(lambda v: f"{v}:x"),
    )


def params(keys: list[str], known_ids: list, everywhere: list[str]) -> st.SearchStrategy:
    """A multi-valued mapping of some of `keys` (the route's own names, mostly), of the names
    read `everywhere` and of unknown names, to values."""
    own = st.sampled_from(keys) if keys else st.sampled_from(everywhere)
    key = st.one_of(own, own, own, st.sampled_from(everywhere), st.text(max_size=8))
    return st.dictionaries(key, st.lists(values_for(known_ids), min_size=1, max_size=3), max_size=6)


EXTREMES = [
    "9999-12-31",
    "0001-01-01",
    "-5",
    "99999999999999999999999",
    "NaN",
    "00000000-0000-0000-0000-00000000000g",
    "x" * 20000,
    "é\u202e😀٣\x00",
]
#: the switches a page reads to choose what it answers (a CSV, a fragment, a day view...)
MODES = {"format": "csv", "view": "day", "part": "row", "action": "confirm", "mode": "full"}
