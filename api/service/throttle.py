"""Login throttling.

:class:`LoginThrottle` counts failed logins per account and per client address in a sliding
window; once either reaches its limit, further attempts are refused (429 with Retry-After)
before any password is hashed, until the oldest failure leaves the window. An attempt is
counted as failed *before* its password is checked (:meth:`LoginThrottle.attempt`, atomic),
so a burst of parallel guesses cannot slip past the limit; a successful login then clears
the account's count and takes its own entry back from the address's.

The windows live in a :class:`~api.service.shared_state.FailureWindows`: in process (a
bounded LRU, so a flood of made-up names cannot grow memory) for the embedded default, or
in Redis (keys expiring with the window) when several API workers must count together.

:class:`LRU` (re-exported from :mod:`api.service.shared_state`) is the thread-safe,
size-bounded mapping of the in-process caches.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from api.service.shared_state import LRU, FailureWindows, LocalWindows, ceil_seconds

__all__ = ["LRU", "MAX_TRACKED", "LoginThrottle"]

MAX_TRACKED = 10_000
"""Accounts and addresses tracked at most in process (least recently failed go first)."""


class LoginThrottle:
    """Failed-login counts per account and per client address (sliding window)."""

    def __init__(self, per_account: int, per_address: int, window_s: float,
                 clock: Callable[[], float] = time.time,
                 windows: FailureWindows | None = None) -> None:
        """Refuse after ``per_account`` / ``per_address`` failures within ``window_s``.

        Args:
            per_account: failures per account within the window.
            per_address: failures per client address within the window.
            window_s: the window (seconds).
            clock: wall-clock seconds (shared backends compare times of several processes).
            windows: where the windows live (default: in process, bounded).
        """
        self.per_account = per_account
        self.per_address = per_address
        self.window_s = window_s
        self._clock = clock
        self._windows = windows if windows is not None else LocalWindows(MAX_TRACKED)

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        return [("u:" + username.strip().lower(), self.per_account),
                ("a:" + address, self.per_address)]

    def retry_after(self, username: str, address: str) -> int:
        """Seconds until ``username`` may try again from ``address`` (0: now)."""
        return ceil_seconds(self._windows.attempt(self._keys(username, address),
                                                  self.window_s, self._clock(), False))

    def attempt(self, username: str, address: str) -> int:
        """Reserve a login attempt: the seconds to wait (nothing counted), or 0 after counting
        the attempt as failed until :meth:`succeeded` says otherwise."""
        return ceil_seconds(self._windows.attempt(self._keys(username, address),
                                                  self.window_s, self._clock(), True))

    def failed(self, username: str, address: str) -> None:
        """Count a failed login of ``username`` from ``address`` (even past the limit)."""
        self._windows.attempt(self._keys(username, address), self.window_s, self._clock(),
                              True, force=True)

    def succeeded(self, username: str, address: str | None = None) -> None:
        """Clear the account's failures after a successful login; with ``address``, also
        take back the entry :meth:`attempt` counted for it there."""
        (account, _), (by_address, _) = self._keys(username, address or "")
        self._windows.clear(account)
        if address is not None:
            self._windows.pop_newest(by_address)
