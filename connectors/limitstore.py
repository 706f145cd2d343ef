"""The shared store of the rate limiter's buckets, with one check per request across scopes.

A request takes from several buckets at once (Syncro: the tenant's reads, all reads, the
egress IP). pyrate-limiter checks and records one bucket at a time, so three buckets cost three
lock round trips and three commits, and a request refused by the last bucket had already been
charged to the first ones. `SharedStore.acquire` checks every bucket of the request and records
the request in all of them, or in none, in one step:

* SQLite (``RATE_LIMIT_SQLITE_PATH``, every process of this host): the library's tables
  (`pyrate_limiter.SQLiteBucket` schema, one table per scope) on one connection, one
  ``BEGIN IMMEDIATE`` transaction with one ``SELECT`` of every count and one commit.
* Redis (``RATE_LIMIT_REDIS_URL``, every host): one Lua script over the library's sorted sets
  (`pyrate_limiter.RedisBucket` layout), atomic on the server.

The buckets stay pyrate-limiter buckets (same tables and keys): their ``waiting`` (how long until
room), ``leak`` (clean-up) and ``count`` are the library's.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import stamina
from pyrate_limiter import Rate, RateItem, RedisBucket, SQLiteBucket
from pyrate_limiter.abstracts import AbstractBucket
from pyrate_limiter.buckets.sqlite_bucket import Queries
from pyrate_limiter.utils import id_generator

#: KEYS = one sorted set per scope; ARGV = now, member, then per key: its number of rates and
#: (interval, limit) pairs. Returns -1 when recorded in every key, else key_index * 64 + rate
#: index of the first full bucket (nothing recorded). The check of pyrate-limiter's PUT_ITEM,
#: over several keys.
ACQUIRE_LUA = """
local now = tonumber(ARGV[1])
local member = ARGV[2]
local pos = 3
for k = 1, #KEYS do
    local rates = tonumber(ARGV[pos])
    pos = pos + 1
    for r = 1, rates do
        local interval = tonumber(ARGV[pos])
        local limit = tonumber(ARGV[pos + 1])
        pos = pos + 2
        if limit - redis.call('ZCOUNT', KEYS[k], now - interval, now) < 1 then
            return (k - 1) * 64 + (r - 1)
        end
    end
end
for k = 1, #KEYS do
    redis.call('ZADD', KEYS[k], now, member)
end
return -1
"""


def rates_key(rates: list[Rate]) -> tuple[tuple[int, int], ...]:
    """``((limit, interval ms), ...)`` of `rates`: buckets are cached per table and rates."""
    return tuple((r.limit, r.interval) for r in rates)


class SharedStore:
    """The buckets of one backend in this process (one connection, one lock)."""

    def bucket(self, table: str, rates: list[Rate]) -> AbstractBucket:
        """The pyrate-limiter bucket of `table` checked against `rates` (one object per table and
        rates: a changed limit setting takes effect at once, on the same recorded entries)."""
        raise NotImplementedError

    def acquire(self, buckets: list[AbstractBucket], item: RateItem) -> AbstractBucket | None:
        """Record `item` in every bucket of `buckets` if each has room for it, else in none.

        Returns:
            None when recorded; otherwise the first full bucket, its ``failing_rate`` set (so
            the library's ``bucket.waiting(item)`` says how many ms until it has room).
        """
        raise NotImplementedError


class SQLiteStore(SharedStore):
    """pyrate-limiter SQLite tables in one file, on one connection of this process.

    Every process of the host opens the same file (WAL journal). A check is one ``BEGIN
    IMMEDIATE`` transaction: SQLite's write lock makes the counts and the inserts one step
    across processes, so no separate file lock is taken per request (the library's
    ``SQLiteBucket`` guards its own check with a ``filelock`` file; this store's processes
    exclude each other through the database itself). The library's bucket methods (``leak``,
    ``waiting``, ``count``) run on the same connection under this store's thread lock.
    """

    BUSY_TIMEOUT_S = 30.0  # how long a process waits for another's check (a few ms each)

    def __init__(self, path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()
        # autocommit mode: transactions are begun and committed explicitly below
        self.conn = sqlite3.connect(
            path, timeout=self.BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        self._set_wal()
        self.conn.execute("PRAGMA synchronous=NORMAL;")
        self._buckets: dict[tuple, SQLiteBucket] = {}

    @stamina.retry(on=sqlite3.OperationalError, attempts=20, wait_initial=0.01, wait_max=0.5)
    def _set_wal(self) -> None:
        """Switch the file to the WAL journal, retried while another process does the same.

        Changing the journal mode needs an exclusive lock, and SQLite answers ``database is
        locked`` at once (without its busy handler) when two processes open a new file
        together; the first one to win converts the file, the others then find WAL already
        set. Raises ``sqlite3.OperationalError`` after 20 attempts (about 5 s).
        """
        self.conn.execute("PRAGMA journal_mode=WAL;")

    def bucket(self, table: str, rates: list[Rate]) -> AbstractBucket:
        """A `SQLiteBucket` on the shared connection (its table and index created if missing)."""
        key = (table, rates_key(rates))
        with self.lock:
            if key not in self._buckets:
                self.conn.execute(Queries.CREATE_BUCKET_TABLE.format(table=table))
                self.conn.execute(
                    Queries.CREATE_INDEX_ON_TIMESTAMP.format(
                        index_name=f"idx_{table}_rate_item_timestamp", table_name=table
                    )
                )
                self._buckets[key] = SQLiteBucket(rates, self.conn, table, lock=self.lock)
            return self._buckets[key]

    def acquire(self, buckets: list[AbstractBucket], item: RateItem) -> AbstractBucket | None:
        """One ``SELECT`` of every (bucket, rate) count, then one INSERT per bucket, in one
        ``BEGIN IMMEDIATE`` transaction (every process of this host)."""
        checks = [(b, r) for b in buckets for r in b.rates]
        # table names are rl_<sha256 digits> (ratelimit._table_name), never user input
        counts = ", ".join(
            f"(SELECT COUNT(*) FROM '{b.table}' WHERE item_timestamp >= ?)"  # noqa: S608
            for b, _ in checks
        )
        params = [item.timestamp - r.interval for _, r in checks]
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                row = self.conn.execute(f"SELECT {counts}", params).fetchone()  # noqa: S608
                for (bucket, rate), used in zip(checks, row, strict=True):
                    if rate.limit - used < item.weight:
                        bucket.failing_rate = rate
                        self.conn.execute("ROLLBACK")
                        return bucket
                for bucket in buckets:
                    self.conn.execute(
                        f"INSERT INTO '{bucket.table}' (name, item_timestamp) VALUES (?, ?)",  # noqa: S608
                        (item.name, item.timestamp),
                    )
                    bucket.failing_rate = None
                self.conn.execute("COMMIT")
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
        return None


class RedisStore(SharedStore):
    """pyrate-limiter Redis sorted sets, checked and recorded by one Lua script."""

    def __init__(self, url: str, prefix: str = "fieldline") -> None:
        from redis import Redis

        self.client = Redis.from_url(url)
        self.prefix = prefix
        self.script = self.client.register_script(ACQUIRE_LUA)
        self._buckets: dict[tuple, RedisBucket] = {}

    def bucket(self, table: str, rates: list[Rate]) -> AbstractBucket:
        """A `RedisBucket` on key ``<prefix>:<table>``, one object per table and rates."""
        key = (table, rates_key(rates))
        if key not in self._buckets:
            self._buckets[key] = RedisBucket.init(rates, self.client, f"{self.prefix}:{table}")
        return self._buckets[key]

    def acquire(self, buckets: list[AbstractBucket], item: RateItem) -> AbstractBucket | None:
        """One ``EVALSHA`` (atomic on the Redis server, every host)."""
        args: list = [item.timestamp, f"{item.name}:{id_generator()}:1"]
        for bucket in buckets:
            args.append(len(bucket.rates))
            for rate in bucket.rates:
                args += [rate.interval, rate.limit]
        failed = int(self.script(keys=[b.bucket_key for b in buckets], args=args))
        if failed < 0:
            for bucket in buckets:
                bucket.failing_rate = None
            return None
        bucket = buckets[failed // 64]
        bucket.failing_rate = bucket.rates[failed % 64]
        return bucket
