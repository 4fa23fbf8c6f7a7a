"""Where the service keeps state that every API worker must see: caches, throttling windows
and one-off locks, behind one small interface with two backends.

* :class:`LocalShared` (the embedded default): in this process — bounded LRUs with a TTL.
  Right for one ``talentmatch serve`` process; nothing is shared between processes.
* :class:`api.service.redis_state.RedisShared` (when ``TALENTMATCH_REDIS_URL`` is set):
  in Redis, under the key prefix ``TALENTMATCH_REDIS_PREFIX``, so that every API worker
  and job worker sees the same entries. Every key carries a TTL.

A cache's :meth:`SharedCache.clear` is seen by every worker at once (the Redis backend
moves a generation counter that every read goes through). :func:`open_shared` picks the
backend from the settings.

Sessions themselves are signed cookies (nothing to share); their revocation is the
account's session epoch in the store, and the account lookups cached here are dropped
everywhere at once by :meth:`SharedCache.clear`.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict
from typing import Any, Generic, Protocol, TypeVar

from data.store.users import User

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MATCH_CACHE = "match"
"""The cache of match results (:class:`api.service.state.ServiceState`)."""
USERS_CACHE = "users"
"""The cache of account lookups (session and token checks)."""


class Codec(Protocol[V]):
    """How a cache value becomes bytes and back (used by shared backends only)."""

    def dumps(self, value: V) -> bytes:
        """The value as bytes."""
        ...

    def loads(self, raw: bytes) -> V:
        """The value of ``raw``."""
        ...


class JSONCodec:
    """JSON objects (compact UTF-8)."""

    def dumps(self, value: dict[str, Any]) -> bytes:
        """Compact UTF-8 JSON."""
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()

    def loads(self, raw: bytes) -> dict[str, Any]:
        """The JSON object of ``raw``."""
        data: dict[str, Any] = json.loads(raw)
        return data


class UserCodec:
    """An optional :class:`data.store.users.User` (``null`` for "no such enabled account")."""

    def dumps(self, value: User | None) -> bytes:
        """JSON of the account's fields, or ``null``."""
        return json.dumps(None if value is None else asdict(value)).encode()

    def loads(self, raw: bytes) -> User | None:
        """The account, or None."""
        data = json.loads(raw)
        return None if data is None else User(**data)


class SharedCache(Protocol[V]):
    """A bounded key → value cache (size and TTL bounded)."""

    def get(self, key: str) -> V | None:
        """The value of ``key``, or None (missing or expired)."""
        ...

    def get_raw(self, key: str) -> tuple[V, bytes | None] | None:
        """The value and, where the backend keeps them, its encoded bytes (else None)."""
        ...

    def put(self, key: str, value: V) -> None:
        """Set ``key`` (evicting old entries beyond the bounds)."""
        ...

    def clear(self) -> None:
        """Forget every entry, for every worker, at once."""
        ...

    def __len__(self) -> int:
        """How many entries this worker can see (an estimate for shared backends)."""
        ...


class FailureWindows(Protocol):
    """Sliding windows of failure times, one per key (login throttling).

    Each key has its own limit; a window keeps at most ``limit`` times (the newest).
    """

    def attempt(self, keys: Sequence[tuple[str, int]], window_s: float, now: float,
                count: bool, force: bool = False) -> float:
        """Seconds until every key is under its limit (0: now). When it is 0 and ``count``
        is set (or whatever it is, with ``force``), ``now`` is added to every key's window,
        atomically with the check."""
        ...

    def clear(self, key: str) -> None:
        """Forget the window of ``key``."""
        ...

    def pop_newest(self, key: str) -> None:
        """Take the newest time back from the window of ``key`` (if any)."""
        ...


class SharedBackend(Protocol):
    """Makes the caches, failure windows and locks of one deployment."""

    shared: bool
    """True when other processes see the same state (Redis)."""

    def cache(self, name: str, size: int, ttl_s: float, codec: Codec[V]) -> SharedCache[V]:
        """The cache ``name`` (at most ``size`` entries, each kept ``ttl_s`` seconds)."""
        ...

    def windows(self, name: str, size: int, ttl_s: float) -> FailureWindows:
        """The failure windows ``name`` (at most ``size`` keys in process; ``ttl_s`` each)."""
        ...

    def claim(self, name: str, ttl_s: float) -> bool:
        """Whether this caller is the first to claim ``name`` within ``ttl_s`` seconds."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


class LRU(Generic[K, V]):
    """A thread-safe mapping that keeps at most ``size`` entries (least recently used go)."""

    def __init__(self, size: int) -> None:
        """Keep at most ``size`` (≥ 1) entries."""
        self.size = max(1, size)
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """The value of ``key`` (now the most recently used), or None."""
        with self._lock:
            if key not in self._data:
                return None
            self._data.move_to_end(key)
            return self._data[key]

    def put(self, key: K, value: V) -> None:
        """Set ``key``, evicting the least recently used entries beyond the size."""
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def pop(self, key: K) -> None:
        """Forget ``key`` (no error when absent)."""
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        """How many entries are kept."""
        return len(self._data)


class LocalCache(Generic[V]):
    """:class:`SharedCache` in this process: an LRU whose entries expire after ``ttl_s``."""

    def __init__(self, size: int, ttl_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """At most ``size`` entries, each kept ``ttl_s`` seconds."""
        self._lru: LRU[str, tuple[float, V]] = LRU(size)
        self.ttl_s = ttl_s
        self._clock = clock

    @property
    def size(self) -> int:
        """The most entries kept."""
        return self._lru.size

    @size.setter
    def size(self, value: int) -> None:
        self._lru.size = max(1, value)

    def get(self, key: str) -> V | None:
        """The value, or None (missing or expired)."""
        found = self.get_raw(key)
        return None if found is None else found[0]

    def get_raw(self, key: str) -> tuple[V, bytes | None] | None:
        """The value (kept as it is: no bytes), or None when missing or expired; a cached
        None answers ``(None, None)``."""
        hit = self._lru.get(key)
        if hit is None:
            return None
        if self._clock() - hit[0] >= self.ttl_s:
            self._lru.pop(key)
            return None
        return hit[1], None

    def put(self, key: str, value: V) -> None:
        """Set ``key``."""
        self._lru.put(key, (self._clock(), value))

    def clear(self) -> None:
        """Forget everything."""
        self._lru.clear()

    def __len__(self) -> int:
        """Entries kept (expired ones included until read)."""
        return len(self._lru)


class LocalWindows:
    """:class:`FailureWindows` in this process (bounded: at most ``size`` keys)."""

    def __init__(self, size: int) -> None:
        """Track at most ``size`` keys (least recently failed are forgotten first)."""
        self._fails: LRU[str, deque[float]] = LRU(size)
        self._lock = threading.Lock()

    def attempt(self, keys: Sequence[tuple[str, int]], window_s: float, now: float,
                count: bool, force: bool = False) -> float:
        """See :meth:`FailureWindows.attempt`."""
        with self._lock:
            wait = 0.0
            for key, limit in keys:
                times = self._fails.get(key)
                if times is None:
                    continue
                while times and now - times[0] >= window_s:
                    times.popleft()
                if len(times) >= limit:
                    wait = max(wait, times[0] + window_s - now)
            if (wait <= 0 and count) or force:
                for key, limit in keys:
                    times = self._fails.get(key)
                    if times is None:
                        times = deque(maxlen=limit)
                        self._fails.put(key, times)
                    times.append(now)
            return max(wait, 0.0)

    def clear(self, key: str) -> None:
        """Forget ``key``."""
        with self._lock:
            self._fails.pop(key)

    def pop_newest(self, key: str) -> None:
        """Drop the newest time of ``key``."""
        with self._lock:
            times = self._fails.get(key)
            if times:
                times.pop()


class LocalShared:
    """The embedded backend: everything in this process (see the module docstring)."""

    shared = False

    def __init__(self) -> None:
        """No connections; claims are remembered in process."""
        self._claims: LocalCache[bool] = LocalCache(1024, 3600.0)
        self._made: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _named(self, name: str, make: Callable[[], Any]) -> Any:
        """The object ``name`` of this backend (made on first use), as Redis names keys."""
        with self._lock:
            if name not in self._made:
                self._made[name] = make()
            return self._made[name]

    def cache(self, name: str, size: int, ttl_s: float, codec: Codec[V]) -> SharedCache[V]:
        """The :class:`LocalCache` ``name`` (the codec is not needed in process)."""
        cache: SharedCache[V] = self._named("cache:" + name, lambda: LocalCache(size, ttl_s))
        return cache

    def windows(self, name: str, size: int, ttl_s: float) -> FailureWindows:
        """The :class:`LocalWindows` ``name``."""
        windows: FailureWindows = self._named("windows:" + name, lambda: LocalWindows(size))
        return windows

    def claim(self, name: str, ttl_s: float) -> bool:
        """First claim of ``name`` in this process."""
        if self._claims.get(name):
            return False
        self._claims.put(name, True)
        return True

    def close(self) -> None:
        """Nothing to release."""


def ceil_seconds(wait: float) -> int:
    """Whole seconds to wait (0 when nothing to wait)."""
    return math.ceil(wait) if wait > 0 else 0


def open_shared(settings: Any) -> SharedBackend:
    """The backend of ``settings``: Redis when ``redis_url`` is set, else in process.

    Raises:
        RuntimeError: the Redis URL is set but the ``redis`` package is missing or the
            server does not answer.
    """
    url = getattr(settings, "redis_url", None)
    if not url:
        return LocalShared()
    from api.service.redis_state import RedisShared

    return RedisShared(url, prefix=settings.redis_prefix)
