"""The Redis backend of :mod:`api.service.shared_state` (``TALENTMATCH_REDIS_URL``).

Every key starts with the deployment's prefix (``TALENTMATCH_REDIS_PREFIX``, ``tm:`` by
default) and carries a TTL, so several deployments (or test runs) can share one Redis
database and nothing grows without bound.

* A cache ``name`` keeps a generation counter ``<prefix><name>:gen``; entries live under
  ``<prefix><name>:<generation>:<key>``. Reading and writing go through a Lua script that
  reads the generation first (one round trip), so :meth:`RedisCache.clear` — one ``INCR`` —
  hides every entry from every worker at once; the hidden entries expire by their TTL. At
  most ``size`` entries are written per generation and TTL period (≤ 2 × size alive).
* Failure windows are sorted sets of times; the check and the count of an attempt run in
  one Lua script, so parallel attempts on several workers cannot slip past the limit.

The scripts touch keys they compute, so this backend needs a single Redis server (or a
primary with replicas), not Redis Cluster.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from api.service.shared_state import Codec, FailureWindows, SharedCache

V = TypeVar("V")

_GET = """
local g = redis.call('GET', KEYS[1]) or '0'
return redis.call('GET', ARGV[1] .. g .. ':' .. ARGV[2])
"""

_PUT = """
local g = redis.call('GET', KEYS[1]) or '0'
local counter = ARGV[1] .. g .. ':#'
local n = redis.call('INCR', counter)
if n == 1 then redis.call('PEXPIRE', counter, ARGV[4]) end
if n > tonumber(ARGV[5]) then return 0 end
redis.call('SET', ARGV[1] .. g .. ':' .. ARGV[2], ARGV[3], 'PX', ARGV[4])
return 1
"""

_COUNT = """
local g = redis.call('GET', KEYS[1]) or '0'
return redis.call('GET', ARGV[1] .. g .. ':#')
"""

_ATTEMPT = """
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local count = ARGV[3] ~= '0'
local force = ARGV[3] == '2'
local ttl = math.ceil(window * 1000)
local wait = 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[3 + i])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local w = tonumber(oldest[2]) + window - now
    if w > wait then wait = w end
  end
end
if (wait <= 0 and count) or force then
  for i, key in ipairs(KEYS) do
    local limit = tonumber(ARGV[3 + i])
    redis.call('ZADD', key, now, ARGV[3 + #KEYS + 1] .. ':' .. i)
    redis.call('ZREMRANGEBYRANK', key, 0, -(limit + 1))
    redis.call('PEXPIRE', key, ttl)
  end
end
return tostring(wait)
"""


def connect(url: str) -> Any:
    """A Redis client for ``url`` (checked with PING).

    Raises:
        RuntimeError: the ``redis`` package is missing or the server does not answer.
    """
    try:
        import redis
    except ImportError as exc:  # pragma: no cover - a dependency of the project
        raise RuntimeError("TALENTMATCH_REDIS_URL 已设置，但未安装 redis 包") from exc
    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3,
                                  health_check_interval=30)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise RuntimeError(f"无法连接 Redis（TALENTMATCH_REDIS_URL）：{exc}") from exc
    return client


class RedisCache(Generic[V]):
    """:class:`~api.service.shared_state.SharedCache` in Redis (see the module docstring)."""

    def __init__(self, client: Any, prefix: str, size: int, ttl_s: float,
                 codec: Codec[V]) -> None:
        """Entries under ``prefix`` (``<deployment prefix><cache name>:``)."""
        self._client = client
        self._prefix = prefix
        self._gen = prefix + "gen"
        self._size = max(1, size)
        self._ttl_ms = max(1, int(ttl_s * 1000))
        self._codec = codec
        self._get = client.register_script(_GET)
        self._put = client.register_script(_PUT)
        self._count = client.register_script(_COUNT)

    def get_raw(self, key: str) -> tuple[V, bytes | None] | None:
        """The value and its stored bytes, or None."""
        raw = self._get(keys=[self._gen], args=[self._prefix, key])
        if raw is None:
            return None
        return self._codec.loads(raw), bytes(raw)

    def get(self, key: str) -> V | None:
        """The value, or None."""
        found = self.get_raw(key)
        return None if found is None else found[0]

    def put(self, key: str, value: V) -> None:
        """Store ``value`` under the current generation (TTL; at most ``size`` per period)."""
        self._put(keys=[self._gen], args=[self._prefix, key, self._codec.dumps(value),
                                          self._ttl_ms, self._size])

    def clear(self) -> None:
        """Move the generation on: every worker's next read misses."""
        self._client.incr(self._gen)

    def __len__(self) -> int:
        """Entries written in the current generation and TTL period."""
        n = self._count(keys=[self._gen], args=[self._prefix])
        return min(int(n or 0), self._size)


class RedisWindows:
    """:class:`~api.service.shared_state.FailureWindows` as Redis sorted sets."""

    def __init__(self, client: Any, prefix: str) -> None:
        """Windows under ``prefix``."""
        self._client = client
        self._prefix = prefix
        self._attempt = client.register_script(_ATTEMPT)

    def attempt(self, keys: Sequence[tuple[str, int]], window_s: float, now: float,
                count: bool, force: bool = False) -> float:
        """See :meth:`~api.service.shared_state.FailureWindows.attempt` (one script)."""
        names = [self._prefix + k for k, _ in keys]
        args: list[Any] = [repr(float(now)), repr(float(window_s)), "2" if force else "1" if count else "0",
                           *[int(limit) for _, limit in keys], uuid.uuid4().hex]
        return float(self._attempt(keys=names, args=args))

    def clear(self, key: str) -> None:
        """Forget ``key``."""
        self._client.delete(self._prefix + key)

    def pop_newest(self, key: str) -> None:
        """Drop the newest time of ``key``."""
        self._client.zpopmax(self._prefix + key)


class RedisShared:
    """The Redis backend of :class:`~api.service.shared_state.SharedBackend`."""

    shared = True

    def __init__(self, url: str, *, prefix: str = "tm:") -> None:
        """Connect to ``url`` (every key under ``prefix``).

        Raises:
            RuntimeError: Redis is unreachable.
        """
        self.client = connect(url)
        self.prefix = prefix

    def cache(self, name: str, size: int, ttl_s: float, codec: Codec[V]) -> SharedCache[V]:
        """A :class:`RedisCache`."""
        return RedisCache(self.client, f"{self.prefix}{name}:", size, ttl_s, codec)

    def windows(self, name: str, size: int, ttl_s: float) -> FailureWindows:
        """A :class:`RedisWindows` (keys expire after the window)."""
        return RedisWindows(self.client, f"{self.prefix}{name}:")

    def claim(self, name: str, ttl_s: float) -> bool:
        """``SET NX PX``: True for the first caller within ``ttl_s``."""
        return bool(self.client.set(f"{self.prefix}claim:{name}", b"1", nx=True,
                                    px=max(1, int(ttl_s * 1000))))

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
