"""Login throttling and the small bounded caches of the service.

:class:`LoginThrottle` counts failed logins per account and per client address in a sliding
window; once either reaches its limit, further attempts are refused (429 with Retry-After)
before any password is hashed, until the oldest failure leaves the window. An attempt is
counted as failed *before* its password is checked (:meth:`LoginThrottle.attempt`, atomic),
so a burst of parallel guesses cannot slip past the limit; a successful login then clears
the account's count and takes its own entry back from the address's. Both tables are
bounded LRUs, so a flood of made-up names cannot grow memory.

:class:`LRU` is a thread-safe, size-bounded mapping used for account lookups and the
demand-map cache.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_TRACKED = 10_000
"""Accounts and addresses tracked at most (least recently failed are forgotten first)."""


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


class LoginThrottle:
    """Failed-login counts per account and per client address (sliding window)."""

    def __init__(self, per_account: int, per_address: int, window_s: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """Refuse after ``per_account`` / ``per_address`` failures within ``window_s``."""
        self.per_account = per_account
        self.per_address = per_address
        self.window_s = window_s
        self._clock = clock
        self._fails: LRU[str, deque[float]] = LRU(MAX_TRACKED)
        self._lock = threading.Lock()

    def _keys(self, username: str, address: str) -> tuple[tuple[str, int], tuple[str, int]]:
        return (("u:" + username.strip().lower(), self.per_account),
                ("a:" + address, self.per_address))

    def retry_after(self, username: str, address: str) -> int:
        """Seconds until ``username`` may try again from ``address`` (0: now)."""
        with self._lock:
            return self._retry_after(username, address)

    def attempt(self, username: str, address: str) -> int:
        """Reserve a login attempt: the seconds to wait (nothing counted), or 0 after counting
        the attempt as failed until :meth:`succeeded` says otherwise."""
        with self._lock:
            wait = self._retry_after(username, address)
            if not wait:
                self._count(username, address)
            return wait

    def _retry_after(self, username: str, address: str) -> int:
        now = self._clock()
        wait = 0.0
        for key, limit in self._keys(username, address):
            times = self._fails.get(key)
            if times is None:
                continue
            while times and now - times[0] >= self.window_s:
                times.popleft()
            if len(times) >= limit:
                wait = max(wait, times[0] + self.window_s - now)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, username: str, address: str) -> None:
        """Count a failed login of ``username`` from ``address``."""
        with self._lock:
            self._count(username, address)

    def _count(self, username: str, address: str) -> None:
        now = self._clock()
        for key, limit in self._keys(username, address):
            times = self._fails.get(key)
            if times is None:
                times = deque(maxlen=limit)
                self._fails.put(key, times)
            times.append(now)

    def succeeded(self, username: str, address: str | None = None) -> None:
        """Clear the account's failures after a successful login; with ``address``, also
        take back the entry :meth:`attempt` counted for it there."""
        with self._lock:
            (account, _), (by_address, _) = self._keys(username, address or "")
            self._fails.pop(account)
            times = self._fails.get(by_address) if address is not None else None
            if times:
                times.pop()
