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


def test_serve_refuses_default_secret_in_production(env: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALENTMATCH_ENVIRONMENT", "production")
    monkeypatch.delenv("TALENTMATCH_SECRET_KEY", raising=False)
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 2 and "TALENTMATCH_SECRET_KEY" in result.output
