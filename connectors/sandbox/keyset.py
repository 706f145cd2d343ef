"""Keyset paging behind the vendors' page-number contract (issue 14 item 5).

The emulated vendors page by number (Syncro ``page``, Synchroteam ``page``/``pageSize``): page N
is rows ``(N - 1) * size`` onwards of one ordered query. Served with ``LIMIT ? OFFSET ?``, SQLite
steps over every earlier row, so a full sweep of 1 000 000 rows costs a quadratic number of index
steps (about ten minutes of emulator time). :class:`PageBoundaries` remembers, per query (kind,
filter, order), the sort key of the last row of each page served; the next page then starts
``WHERE (order, id) > (last key) LIMIT size``: an index seek, whatever the page number.

What a client sees does not change: ``(order column, id)`` is a total order (``id`` is unique
per kind), so the rows after a page's last key are exactly the rows at that offset. A write to a
kind forgets that kind's boundaries (an insert before a boundary shifts every later offset, as it
does at the vendor), so paging after a write is the OFFSET answer again; a jump to a page with no
known boundary starts from the nearest known one below it, with an OFFSET for the rest.
"""

from __future__ import annotations

import bisect
from collections import OrderedDict
from typing import Any

#: queries whose boundaries are kept (least recently used dropped first)
MAX_QUERIES = 256
#: boundaries kept per query (a 1 000 000-row sweep at 50 a page needs 20 000)
MAX_BOUNDARIES = 100_000

QueryKey = tuple[Any, ...]
SortKey = tuple[Any, int]  # (order column value, id); the value is the id itself for order="id"


class PageBoundaries:
    """Sort keys of page boundaries per query. Not thread-safe: the store calls it under its lock.

    ``offsets[key]`` is a sorted list of offsets ``o`` whose boundary (the key of the row at
    position ``o - 1``) is in ``keys[key][o]``.
    """

    def __init__(self) -> None:
        self._keys: OrderedDict[QueryKey, dict[int, SortKey]] = OrderedDict()
        self._offsets: dict[QueryKey, list[int]] = {}

    def nearest(self, key: QueryKey, offset: int) -> tuple[int, SortKey] | None:
        """``(o, sort key)`` of the known boundary with the largest ``o <= offset``, or None."""
        known = self._keys.get(key)
        if not known:
            return None
        self._keys.move_to_end(key)
        if offset in known:
            return offset, known[offset]
        offsets = self._offsets[key]
        i = bisect.bisect_right(offsets, offset)
        if i == 0:
            return None
        return offsets[i - 1], known[offsets[i - 1]]

    def remember(self, key: QueryKey, offset: int, sort_key: SortKey) -> None:
        """Record that the row at position ``offset - 1`` of query ``key`` has ``sort_key``."""
        known = self._keys.get(key)
        if known is None:
            known = self._keys[key] = {}
            self._offsets[key] = []
            while len(self._keys) > MAX_QUERIES:
                old, _ = self._keys.popitem(last=False)
                del self._offsets[old]
        self._keys.move_to_end(key)
        if offset in known:
            return
        if len(known) >= MAX_BOUNDARIES:
            known.clear()
            self._offsets[key].clear()
        known[offset] = sort_key
        bisect.insort(self._offsets[key], offset)

    def forget(self, kind: str | None = None) -> None:
        """Drop the boundaries of every query on ``kind`` (None: of every query)."""
        if kind is None:
            self._keys.clear()
            self._offsets.clear()
            return
        for key in [k for k in self._keys if k[0] == kind]:
            del self._keys[key]
            del self._offsets[key]

    def __len__(self) -> int:
        return sum(len(v) for v in self._keys.values())


def after_condition(order: str, desc: bool) -> str:
    """SQL condition selecting the rows after a boundary ``(?, ?)`` in ``ORDER BY order, id``.

    SQLite sorts NULL first ascending and last descending; a boundary is only recorded with a
    non-NULL value (see :func:`sort_key`), so ascending needs no NULL case and descending keeps
    the NULL rows, which all come after it. The row-value comparison lets SQLite seek the
    ``(kind, order, id)`` index (SQLite >= 3.15, "Row Values" section 2.1).
    """
    if order == "id":
        return "id < ?" if desc else "id > ?"
    if desc:
        return f"({order} IS NULL OR ({order}, id) < (?, ?))"
    return f"({order}, id) > (?, ?)"


def after_params(order: str, sort_key: SortKey) -> tuple[Any, ...]:
    """Parameters of :func:`after_condition` for ``sort_key``."""
    return (sort_key[1],) if order == "id" else sort_key


def sort_key(order: str, value: Any, id: int) -> SortKey | None:
    """The boundary key of a row, or None when it cannot be one (a NULL sort value)."""
    if order == "id":
        return (id, id)
    if value is None:
        return None
    return (value, id)
