"""Shared state (issue #14, item 1): the in-process and the Redis backend behave alike —
bounded caches with a TTL, a clear seen by every worker at once, failure windows whose
check-and-count is atomic across workers, one-off claims — and the service state uses the
Redis backend when ``TALENTMATCH_REDIS_URL`` is set."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from api.service.shared_state import (
    JSONCodec,
    LocalShared,
    SharedBackend,
    UserCodec,
    open_shared,
)
from api.service.throttle import LoginThrottle
from api.settings import Settings
from data.store.users import User

Workers = Callable[[], tuple[SharedBackend, SharedBackend]]


@pytest.fixture(params=["local", "redis"])
def backends(request: pytest.FixtureRequest) -> Iterator[tuple[SharedBackend, SharedBackend]]:
    """Two "workers": the same in-process backend twice, or two Redis connections."""
    if request.param == "local":
        one = LocalShared()
        yield one, one
        return
    url, prefix = request.getfixturevalue("redis_url")
    settings = Settings(redis_url=url, redis_prefix=prefix)
    a, b = open_shared(settings), open_shared(settings)
    assert a.shared and b.shared
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_a_value_put_by_one_worker_is_read_by_the_other_and_clear_is_global(
        backends: tuple[SharedBackend, SharedBackend]) -> None:
    a, b = backends
    ca = a.cache("match", 100, 60.0, JSONCodec())
    cb = b.cache("match", 100, 60.0, JSONCodec())
    ca.put("k1", {"matches": [1, 2], "名": "值"})
    assert cb.get("k1") == {"matches": [1, 2], "名": "值"}
    assert cb.get("missing") is None
    cb.clear()
    assert ca.get("k1") is None and cb.get("k1") is None
    ca.put("k1", {"v": 2})
    assert cb.get("k1") == {"v": 2}


def test_cached_none_is_a_hit(backends: tuple[SharedBackend, SharedBackend]) -> None:
    a, b = backends
    users = a.cache("users", 10, 60.0, UserCodec())
    users.put("t:unknown", None)
    found = b.cache("users", 10, 60.0, UserCodec()).get_raw("t:unknown")
    assert found is not None and found[0] is None
    user = User(id="U1", username="王", role="admin", session_epoch=3)
    users.put("u:U1", user)
    assert b.cache("users", 10, 60.0, UserCodec()).get("u:U1") == user


def test_entries_expire(backends: tuple[SharedBackend, SharedBackend]) -> None:
    a, _ = backends
    cache = a.cache("short", 10, 0.2, JSONCodec())
    cache.put("k", {"v": 1})
    assert cache.get("k") == {"v": 1}
    time.sleep(0.35)
    assert cache.get("k") is None


def test_caches_are_bounded(backends: tuple[SharedBackend, SharedBackend]) -> None:
    a, _ = backends
    cache = a.cache("bounded", 5, 60.0, JSONCodec())
    for n in range(50):
        cache.put(f"k{n}", {"n": n})
    assert len(cache) <= 5 or not a.shared  # Redis: at most `size` written per period
    kept = sum(cache.get(f"k{n}") is not None for n in range(50))
    assert 1 <= kept <= 5


def test_login_windows_are_shared_and_a_parallel_burst_cannot_pass(
        backends: tuple[SharedBackend, SharedBackend]) -> None:
    a, b = backends
    throttles = [LoginThrottle(3, 100, 60.0, windows=x.windows("login", 100, 60.0))
                 for x in (a, b)]
    waits: list[int] = []
    threads = [threading.Thread(target=lambda i=i: waits.append(
        throttles[i % 2].attempt("Zhang", "10.0.0.1"))) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert waits.count(0) == 3 and all(0 < w <= 60 for w in waits if w)
    assert throttles[1].retry_after("zhang ", "10.9.9.9") > 0  # per account, any address
    throttles[0].succeeded("Zhang", "10.0.0.1")
    assert throttles[1].attempt("zhang", "10.0.0.1") == 0


def test_window_slides(backends: tuple[SharedBackend, SharedBackend]) -> None:
    a, b = backends
    now = [1000.0]
    t1 = LoginThrottle(2, 100, 60.0, clock=lambda: now[0],
                       windows=a.windows("login2", 100, 60.0))
    t2 = LoginThrottle(2, 100, 60.0, clock=lambda: now[0],
                       windows=b.windows("login2", 100, 60.0))
    t1.failed("li", "1.1.1.1")
    t2.failed("li", "1.1.1.1")
    assert t2.retry_after("li", "2.2.2.2") == 60
    now[0] += 30
    assert t1.retry_after("li", "2.2.2.2") == 30
    now[0] += 30
    assert t2.retry_after("li", "2.2.2.2") == 0


def test_claims_are_first_come(backends: tuple[SharedBackend, SharedBackend]) -> None:
    a, b = backends
    assert a.claim("warm:v1", 60.0)
    assert not b.claim("warm:v1", 60.0) and not a.claim("warm:v1", 60.0)
    assert b.claim("warm:v2", 60.0)


def test_unreachable_redis_fails_loudly() -> None:
    with pytest.raises(RuntimeError, match="Redis"):
        open_shared(Settings(redis_url="redis://127.0.0.1:1/0"))
    assert isinstance(open_shared(Settings()), LocalShared)
