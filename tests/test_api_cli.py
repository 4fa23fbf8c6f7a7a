"""The service's CLI commands: ``user add|list|disable`` and ``serve``'s secret check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from api.cli import app

runner = CliRunner()


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'tm.db'}")
    monkeypatch.setenv("TALENTMATCH_INDEX_DIR", str(tmp_path / "index"))
    return tmp_path


def test_user_add_list_disable(env: Path) -> None:
    added = runner.invoke(app, ["user", "add", "tech", "--role", "reviewer", "--work-group",
                                "tech_return", "--password", "pw-123456", "--json"])
    assert added.exit_code == 0, added.output
    data = json.loads(added.stdout)
    assert data["token"].startswith("tm_") and data["work_group"] == "tech_return"
    assert "password" not in added.stdout
    listed = json.loads(runner.invoke(app, ["user", "list", "--json"]).stdout)
    assert [(u["username"], u["disabled"]) for u in listed] == [("tech", False)]
    assert data["token"] not in runner.invoke(app, ["user", "list"]).output
    assert runner.invoke(app, ["user", "disable", "tech"]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["user", "list", "--json"]).stdout)
    assert listed[0]["disabled"] is True


def test_user_add_errors(env: Path) -> None:
    no_group = runner.invoke(app, ["user", "add", "r", "--role", "reviewer"])
    assert no_group.exit_code == 2 and "work-group" in no_group.output
    bad_role = runner.invoke(app, ["user", "add", "r", "--role", "boss"])
    assert bad_role.exit_code == 2 and "boss" in bad_role.output
    assert runner.invoke(app, ["user", "add", "a", "--role", "admin"]).exit_code == 0
    again = runner.invoke(app, ["user", "add", "a", "--role", "admin"])
    assert again.exit_code == 2
    assert runner.invoke(app, ["user", "disable", "nobody"]).exit_code == 2


def test_user_add_city(env: Path) -> None:
    """``--city`` scopes the account to a programme city (issue #14 item 3)."""
    added = runner.invoke(app, ["user", "add", "ny", "--role", "organizer", "--city", "nanyang",
                                "--json"])
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["city"] == "南阳"
    plain = runner.invoke(app, ["user", "add", "all", "--role", "admin", "--json"])
    assert json.loads(plain.stdout)["city"] is None
    bad = runner.invoke(app, ["user", "add", "x", "--role", "organizer", "--city", "洛阳"])
    assert bad.exit_code == 2 and "city" in bad.output and "洛阳" in bad.output
    assert "南阳" in runner.invoke(app, ["user", "list"]).output
    assert "--city" in runner.invoke(app, ["user", "add", "--help"]).output


def test_user_city_moves_or_unscopes_an_account_and_ends_its_sessions(env: Path) -> None:
    from api.application import Application
    from api.settings import Settings

    added = json.loads(runner.invoke(app, ["user", "add", "r", "--role", "organizer",
                                           "--city", "南阳", "--json"]).stdout)
    store = Application(Settings()).store
    epoch = store.get_user("r").session_epoch  # type: ignore[union-attr]
    moved = runner.invoke(app, ["user", "city", "r", "--city", "pingdingshan"])
    assert moved.exit_code == 0 and "平顶山" in moved.output, moved.output
    after = store.get_user("r")
    assert after is not None and after.city == "平顶山" and after.session_epoch > epoch
    assert runner.invoke(app, ["user", "city", "r", "--unscoped"]).exit_code == 0
    assert store.get_user("r").city is None  # type: ignore[union-attr]
    for args, says in ((["r"], "--unscoped"), (["r", "--city", "南阳", "--unscoped"], "--city"),
                       (["r", "--city", "洛阳"], "洛阳"), (["r", "--city", " "], "--unscoped"),
                       (["nobody", "--city", "南阳"], "nobody")):
        bad = runner.invoke(app, ["user", "city", *args])
        assert bad.exit_code == 2 and says in bad.output, (args, bad.output)
    assert store.get_user("r").city is None  # type: ignore[union-attr]
    assert added["city"] == "南阳"
    assert "--unscoped" in runner.invoke(app, ["user", "city", "--help"]).output


def test_serve_refuses_default_secret_in_production(env: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALENTMATCH_ENVIRONMENT", "production")
    monkeypatch.delenv("TALENTMATCH_SECRET_KEY", raising=False)
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2 and "TALENTMATCH_SECRET_KEY" in result.output


def test_several_workers_and_the_job_worker_need_redis(env: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Without ``TALENTMATCH_REDIS_URL`` nothing would be shared: refused, with the reason."""
    monkeypatch.delenv("TALENTMATCH_REDIS_URL", raising=False)
    served = runner.invoke(app, ["serve", "--port", "1", "--workers", "2"])
    assert served.exit_code == 2 and "TALENTMATCH_REDIS_URL" in served.output
    worked = runner.invoke(app, ["worker", "--burst"])
    assert worked.exit_code == 2 and "TALENTMATCH_REDIS_URL" in worked.output
    monkeypatch.setenv("TALENTMATCH_REDIS_URL", "redis://127.0.0.1:1/0")
    unreachable = runner.invoke(app, ["worker", "--burst"])
    assert unreachable.exit_code == 2 and "Redis" in unreachable.output


def test_user_revoke_clears_the_shared_account_cache(
        env: Path, monkeypatch: pytest.MonkeyPatch, redis_url: tuple[str, str]) -> None:
    """An account change from the CLI holds at once on API workers that cached the account."""
    from api.service.shared_state import UserCodec, open_shared
    from api.settings import Settings

    url, prefix = redis_url
    monkeypatch.setenv("TALENTMATCH_REDIS_URL", url)
    monkeypatch.setenv("TALENTMATCH_REDIS_PREFIX", prefix)
    assert runner.invoke(app, ["user", "add", "a", "--role", "admin"]).exit_code == 0
    shared = open_shared(Settings(redis_url=url, redis_prefix=prefix))
    try:
        users = shared.cache("users", 10, 60.0, UserCodec())
        users.put("t:cached", None)
        assert users.get_raw("t:cached") is not None
        assert runner.invoke(app, ["user", "revoke", "a"]).exit_code == 0
        assert users.get_raw("t:cached") is None
    finally:
        shared.close()
