"""Login and session security (issue #11): throttling, equal timing for known and unknown
users, bounded hashing, session revocation, token expiry and revocation, no default key."""

from __future__ import annotations

import os
import re
import stat
import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer

from api.application import Application
from api.service import auth
from api.service.app import create_app
from api.service.auth import PasswordChecker, SecretKeyError, create_user, token_hash
from api.service.secret import KEY_FILE, session_key
from api.service.throttle import LRU, LoginThrottle
from api.settings import Settings

PASSWORD = "correct-horse-battery"


def _settings(root: Path, **extra: Any) -> Settings:
    return Settings(database_url=f"sqlite:///{root / 'tm.db'}", index_dir=root / "index",
                    **extra)


@pytest.fixture
def app_env(tmp_path: Path) -> Iterator[tuple[TestClient, Application]]:
    application = Application(_settings(tmp_path, login_max_failures=3,
                                        login_max_failures_per_ip=6))
    create_user(application.store, "alice", "admin", password=PASSWORD)
    create_user(application.store, "bob", "organizer", password=PASSWORD)
    with TestClient(create_app(application=application)) as client:
        yield client, application
    application.store.close()


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert found
    return found.group(1)


def _login(client: TestClient, username: str, password: str) -> Any:
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf": _csrf(client)}, follow_redirects=False)


# -- throttling ------------------------------------------------------------------------------

def test_failed_logins_per_account_get_429_with_retry_after(
        app_env: tuple[TestClient, Application]) -> None:
    client, _ = app_env
    for _ in range(3):
        r = _login(client, "alice", "wrong")
        assert r.status_code == 200 and "用户名或密码错误" in r.text
    locked = _login(client, "alice", PASSWORD)  # even the right password waits
    assert locked.status_code == 429, locked.text
    assert int(locked.headers["retry-after"]) > 0
    assert "登录失败次数过多" in locked.text
    assert _login(client, "bob", PASSWORD).status_code == 303  # other accounts still log in


def test_failed_logins_per_address_get_429(app_env: tuple[TestClient, Application]) -> None:
    client, _ = app_env
    for n in range(6):
        assert _login(client, f"nobody{n}", "wrong").status_code == 200
    r = _login(client, "nobody-else", "wrong")
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_throttle_window_slides_and_success_clears() -> None:
    now = [0.0]
    throttle = LoginThrottle(per_account=2, per_address=100, window_s=60, clock=lambda: now[0])
    throttle.failed("a", "1.1.1.1")
    throttle.failed("a", "1.1.1.1")
    assert throttle.retry_after("a", "1.1.1.1") == 60
    assert throttle.retry_after("A ", "2.2.2.2") == 60  # per account, whatever the address
    now[0] = 30.0
    assert throttle.retry_after("a", "1.1.1.1") == 30
    now[0] = 60.0
    assert throttle.retry_after("a", "1.1.1.1") == 0
    throttle.failed("a", "1.1.1.1")
    throttle.succeeded("a")
    throttle.failed("a", "1.1.1.1")
    assert throttle.retry_after("a", "1.1.1.1") == 0


def test_a_parallel_burst_cannot_pass_the_limit() -> None:
    throttle = LoginThrottle(per_account=3, per_address=100, window_s=60)
    waits: list[int] = []
    threads = [threading.Thread(target=lambda: waits.append(throttle.attempt("a", "1.1.1.1")))
               for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(waits)[:4] == [0, 0, 0, 60] and waits.count(0) == 3
    throttle.succeeded("a", "1.1.1.1")  # a success clears the account's count
    assert throttle.attempt("a", "1.1.1.1") == 0


# -- timing and hashing ----------------------------------------------------------------------

def test_unknown_and_known_users_answer_in_the_same_time(tmp_path: Path) -> None:
    """Known user + wrong password vs unknown user: within 20 %.

    The 20 % bound is asserted on this process's CPU time per login (median of 11
    interleaved tries; the server runs in the test process), which other processes cannot
    disturb. Wall time (best of 11) is printed and held to 2×: on a shared 2-core machine at
    load 11 it wanders ±35 % either way, while the leak this guards against was 35–80×
    (5 ms against 260 ms). On a quiet machine the two agree (uvicorn: 229.5 / 228.8 ms).
    """
    application = Application(_settings(tmp_path, login_max_failures=1000,
                                        login_max_failures_per_ip=1000))
    create_user(application.store, "carol", "admin", password=PASSWORD)
    client = TestClient(create_app(application=application))
    _login(client, "warm-up", "x")
    names = ("carol", "no-such-user")
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for round_ in range(11):
        # interleaved, alternating which goes first, so both see the same machine load
        for name in names if round_ % 2 else names[::-1]:
            csrf = _csrf(client)
            start, start_cpu = time.perf_counter(), time.process_time()
            r = client.post("/login", data={"username": name, "password": "wrong-password",
                                            "csrf": csrf}, follow_redirects=False)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
            assert r.status_code == 200
    best = [min(wall[n]) for n in names]
    median_cpu = [statistics.median(cpu[n]) for n in names]
    ratios = {"wall_best": max(best) / min(best), "cpu_median": max(median_cpu) / min(median_cpu)}
    print({"known_ms": round(best[0] * 1000, 1), "unknown_ms": round(best[1] * 1000, 1),
           "cpu_known_ms": round(median_cpu[0] * 1000, 1),
           "cpu_unknown_ms": round(median_cpu[1] * 1000, 1),
           **{k: round(v, 3) for k, v in ratios.items()}})
    assert ratios["cpu_median"] <= 1.2, cpu
    assert ratios["wall_best"] <= 2.0, wall
    application.store.close()


def test_password_hashing_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    active, peak = [0], [0]
    lock = threading.Lock()

    def slow_verify(password_hash: str | None, password: str) -> bool:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return False

    monkeypatch.setattr(auth, "verify_password", slow_verify)
    checker = PasswordChecker(slots=2)
    threads = [threading.Thread(target=checker.check, args=(None, "x")) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2
    busy = PasswordChecker(slots=1, wait_s=0.01)
    blocker = threading.Thread(target=busy.check, args=(None, "x"))
    blocker.start()
    time.sleep(0.01)
    with pytest.raises(auth.HashingBusy):
        busy.check(None, "x")
    blocker.join()


# -- sessions --------------------------------------------------------------------------------

def _me(client: TestClient, cookie: str) -> int:
    client.cookies.clear()
    client.cookies.set("tm_session", cookie)
    status = client.get("/api/v1/me").status_code
    client.cookies.clear()
    return status


def _session(client: TestClient, username: str) -> str:
    client.cookies.clear()
    assert _login(client, username, PASSWORD).status_code == 303
    cookie = client.cookies.get("tm_session")
    assert cookie
    return cookie


def test_logout_revokes_the_session(app_env: tuple[TestClient, Application]) -> None:
    client, _ = app_env
    cookie = _session(client, "alice")
    assert _me(client, cookie) == 200
    client.cookies.set("tm_session", cookie)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/review").text)
    assert csrf
    assert client.post("/logout", data={"csrf": csrf.group(1)},
                       follow_redirects=False).status_code == 303
    assert _me(client, cookie) == 401  # a copy of the old cookie no longer works


def test_disable_and_password_change_revoke_sessions(
        app_env: tuple[TestClient, Application]) -> None:
    client, application = app_env
    state = client.app.state.service  # type: ignore[attr-defined]
    cookie = _session(client, "alice")
    application.store.set_user_disabled("alice", True)
    state.forget_users()  # what the 5 s lookup cache does on its own
    assert _me(client, cookie) == 401
    application.store.set_user_disabled("alice", False)
    state.forget_users()
    assert _me(client, cookie) == 401  # re-enabling does not bring old sessions back
    cookie = _session(client, "bob")
    assert _me(client, cookie) == 200
    application.store.set_user_password("bob", auth.hash_password("a-new-password"))
    state.forget_users()
    assert _me(client, cookie) == 401


# -- API tokens ------------------------------------------------------------------------------

def test_tokens_expire_and_can_be_revoked(app_env: tuple[TestClient, Application]) -> None:
    import datetime as dt

    client, application = app_env
    store = application.store
    user, token = create_user(store, "dave", "organizer")
    h = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/me", headers=h).status_code == 200
    (listed,) = store.tokens_of(user.id)
    expires = dt.datetime.fromisoformat(listed["expires_at"])
    assert dt.timedelta(days=89) < expires - dt.datetime.now(dt.UTC) <= dt.timedelta(days=90)
    old = "tm_expired-token"
    store.add_token(user.id, token_hash(old),
                    expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {old}"}
                      ).status_code == 401
    assert store.revoke_tokens(user.id) == 2
    client.app.state.service.forget_users()  # type: ignore[attr-defined]
    assert client.get("/api/v1/me", headers=h).status_code == 401


def test_cli_issues_and_revokes_tokens(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from api.cli import app

    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'tm.db'}")
    monkeypatch.setenv("TALENTMATCH_INDEX_DIR", str(tmp_path / "index"))
    runner = CliRunner()
    assert runner.invoke(app, ["user", "add", "erin", "--role", "admin"]).exit_code == 0
    issued = runner.invoke(app, ["user", "token", "erin", "--days", "7", "--json"])
    assert issued.exit_code == 0, issued.output
    data = json.loads(issued.stdout)
    application = Application(_settings(tmp_path))
    assert application.store.user_by_token(token_hash(data["token"])) is not None
    revoked = runner.invoke(app, ["user", "revoke", "erin"])
    assert revoked.exit_code == 0 and "2" in revoked.output
    assert application.store.user_by_token(token_hash(data["token"])) is None
    assert runner.invoke(app, ["user", "token", "nobody"]).exit_code == 2
    changed = runner.invoke(app, ["user", "password", "erin"],
                            input="a-long-password\na-long-password\n")
    assert changed.exit_code == 0, changed.output
    application.store.close()


# -- the session key -------------------------------------------------------------------------

def test_no_public_default_key(tmp_path: Path) -> None:
    for bad in ("dev-secret-change-me", "short-key"):
        with pytest.raises(SecretKeyError, match="TALENTMATCH_SECRET_KEY"):
            create_app(_settings(tmp_path, secret_key=bad))
    with pytest.raises(SecretKeyError, match="生产模式"):
        create_app(_settings(tmp_path, environment="production"))


def test_generated_key_is_random_private_and_kept(tmp_path: Path) -> None:
    first = session_key(_settings(tmp_path / "a"))
    path = tmp_path / "a" / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32 and session_key(_settings(tmp_path / "a")) == first
    assert session_key(_settings(tmp_path / "b")) != first
    os.chmod(path, 0o644)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        session_key(_settings(tmp_path / "a"))


def test_a_cookie_forged_with_the_old_default_key_is_refused(tmp_path: Path) -> None:
    application = Application(_settings(tmp_path))
    admin, _ = create_user(application.store, "root", "admin", password=PASSWORD)
    client = TestClient(create_app(application=application))
    for key in ("dev-secret-change-me", "another-guess"):
        forged = URLSafeTimedSerializer(key, salt="tm-session").dumps(
            {"uid": admin.id, "csrf": "x", "ep": 0})
        assert _me(client, forged) == 401
    assert _me(client, _session(client, "root")) == 200  # a real session works
    client.cookies.set("tm_session", URLSafeTimedSerializer(
        "dev-secret-change-me", salt="tm-session").dumps({"uid": admin.id, "csrf": "x"}))
    export = client.get("/api/v1/export/talents?contacts=true")
    assert export.status_code == 401
    application.store.close()


def test_production_cookies_are_secure(tmp_path: Path) -> None:
    application = Application(_settings(tmp_path, environment="production",
                                        secret_key="p" * 48))
    create_user(application.store, "prod", "admin", password=PASSWORD)
    client = TestClient(create_app(application=application), base_url="https://testserver")
    r = _login(client, "prod", PASSWORD)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    application.store.close()


# -- bounded caches --------------------------------------------------------------------------

def test_unknown_bearer_tokens_do_not_grow_the_cache(
        app_env: tuple[TestClient, Application]) -> None:
    client, _ = app_env
    state = client.app.state.service  # type: ignore[attr-defined]
    state._users.size = 50
    for n in range(300):
        assert state.user_by_token(token_hash(f"made-up-{n}")) is None
    assert state.cached_users() == 50


def test_lru_keeps_the_most_recent() -> None:
    cache: LRU[str, int] = LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert cache.get("b") is None and cache.get("a") == 1 and len(cache) == 2


def test_demand_map_threshold_is_clamped_and_nothing_is_cached_in_memory() -> None:
    """Thresholds are clamped to a 0.01 grid in [-10, 10] (so the saved maps per index
    version are bounded) and the page keeps no module-level cache of maps (it reads the
    maps the demand-map job saved)."""
    from api.services import demand_map

    assert demand_map.clamp_threshold(None) is None
    assert demand_map.clamp_threshold(float("nan")) is None
    assert demand_map.clamp_threshold(0.123456) == 0.12
    assert demand_map.clamp_threshold(1e12) == 10.0 and demand_map.clamp_threshold(-1e12) == -10.0
    assert not [name for name, value in vars(demand_map).items()
                if isinstance(value, dict | LRU) and name.startswith("_")
                and not name.startswith("__")]
