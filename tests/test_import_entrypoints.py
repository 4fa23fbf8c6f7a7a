"""Bad files through the two entry points (#11 §3): the CLI exits 2 with a Chinese message and
no traceback, the HTTP upload answers 400; interrupted imports show in ``talentmatch stats``
and in ``GET /api/v1/imports``. One test kills a real import with SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api import cli_common
from api.application import Application
from api.cli import app
from api.service.app import create_app
from api.service.auth import create_user
from api.settings import Settings
from data.store import Store
from tests.test_import_files import HEADER, random_xlsx, talent_rows, write_csv, zip_bomb

runner = CliRunner()


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TALENTMATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'tm.db'}")
    monkeypatch.setenv("TALENTMATCH_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _flat(text: str) -> str:
    """Output without the line breaks and spaces rich adds when it wraps."""
    return "".join(text.split())


def _talents() -> int:
    return int(json.loads(runner.invoke(app, ["stats", "--json"]).stdout)["talents"])


# --- CLI ----------------------------------------------------------------------------------

def test_cli_random_bytes_xlsx_exits_2_without_traceback(env: Path) -> None:
    before = _talents()
    result = runner.invoke(app, ["import", "talents", str(random_xlsx(env / "t.xlsx"))])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "不是有效的Excel工作簿" in _flat(result.output) and "Traceback" not in result.output
    assert _talents() == before == 0


def test_cli_zip_bomb_exits_2_with_the_setting_named(env: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TALENTMATCH_IMPORT_MAX_XLSX_MB", "1")
    result = runner.invoke(app, ["import", "talents", str(zip_bomb(env / "b.xlsx", 2))])
    assert result.exit_code == 2 and "TALENTMATCH_IMPORT_MAX_XLSX_MB" in _flat(result.output)
    assert _talents() == 0


def test_cli_row_cap_setting(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(env / "t.csv", [HEADER, *talent_rows(4)])
    monkeypatch.setenv("TALENTMATCH_IMPORT_MAX_ROWS", "3")
    result = runner.invoke(app, ["import", "talents", str(path)])
    assert result.exit_code == 2 and "超过上限3行" in _flat(result.output)
    monkeypatch.delenv("TALENTMATCH_IMPORT_MAX_ROWS")
    assert runner.invoke(app, ["import", "talents", str(path)]).exit_code == 0
    assert _talents() == 4


def test_stats_lists_an_incomplete_import(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Store.open(f"sqlite:///{env / 'tm.db'}") as store:
        import_id = store.start_import({"entity": "talents", "file_name": "大表.csv",
                                        "file_hash": "ab" * 32, "file_size": 10,
                                        "format": "csv"})
        store.progress_import(import_id, {"rows": 17000, "inserted": 17000,
                                          "last_row": 17001})
    data = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    [item] = data["incomplete_imports"]
    assert (item["id"], item["status"], item["inserted"]) == (import_id, "running", 17000)
    # the CLI's console took its width when it was created (80 without a terminal)
    monkeypatch.setattr(cli_common.console, "_width", 200)
    shown = _flat(runner.invoke(app, ["stats"]).stdout)
    assert "未完成的导入（1次）" in shown and "大表.csv" in shown and "17001" in shown, shown


def test_kill_9_during_import_then_rerun_completes(env: Path) -> None:
    """A real SIGKILL after the first batch landed: the record stays running, stats shows
    it, and the same command again completes it."""
    path = write_csv(env / "big.csv", [HEADER, *talent_rows(12_000)])
    db = env / "tm.db"
    with Store.open(f"sqlite:///{db}") as store:
        assert store.imports() == []
    repo = Path(__file__).resolve().parents[1]
    child_env = {**os.environ, "TALENTMATCH_DATABASE_URL": f"sqlite:///{db}",
                 "PYTHONPATH": str(repo)}
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "import", "talents", str(path),
                             "--quiet"], cwd=env, env=child_env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        progressed = None
        deadline = time.monotonic() + 120
        while progressed is None and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
            try:
                with Store.open(f"sqlite:///{db}") as store:
                    running = [r for r in store.imports() if r["inserted"] > 0]
            except Exception:  # the child may be migrating the new file
                continue
            progressed = running[0] if running else None
        if proc.poll() is not None:
            pytest.fail("the import finished before it could be killed; use a larger file")
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    assert progressed is not None
    data = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    [broken] = data["incomplete_imports"]
    assert broken["status"] == "running" and 0 < data["talents"] < 12_000
    assert broken["inserted"] <= data["talents"]
    result = runner.invoke(app, ["import", "talents", str(path), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["inserted"] + report["unchanged"] == 12_000
    assert report["unchanged"] == data["talents"] and report["resumed"] == [broken["id"]]
    after = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert after["talents"] == 12_000 and after["incomplete_imports"] == []


# --- HTTP ---------------------------------------------------------------------------------

@pytest.fixture()
def client(tmp_path: Path) -> tuple[TestClient, dict[str, str], Application]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'tm.db'}",
                        index_dir=tmp_path / "index", import_max_xlsx_mb=1)
    application = Application(settings)
    _, token = create_user(application.store, "imp-admin", "admin")
    return (TestClient(create_app(application=application)),
            {"Authorization": f"Bearer {token}"}, application)


def test_http_random_bytes_xlsx_is_400(client: tuple[TestClient, dict[str, str], Application],
                                       tmp_path: Path) -> None:
    http, headers, application = client
    upload = {"file": ("人才.xlsx", random_xlsx(tmp_path / "r.xlsx").read_bytes(),
                       "application/octet-stream")}
    response = http.post("/api/v1/import/talents", files=upload, headers=headers)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "bad_request" and "「人才.xlsx」不是有效的 Excel 工作簿" in body[
        "message"]
    assert application.store.count("talents") == 0


def test_http_upload_name_is_never_a_path() -> None:
    from api.services.transfer import upload_name as _upload_name

    assert _upload_name("../../etc/人才.xlsx", ".xlsx") == "人才.xlsx"
    assert _upload_name("..\\x\\t.csv", ".csv") == "t.csv"
    assert _upload_name(".xlsx", ".xlsx") == "upload.xlsx"
    assert _upload_name("a\nb.csv", ".csv") == "upload.csv"
    assert _upload_name(None, ".jsonl") == "upload.jsonl"


def test_http_zip_bomb_is_400(client: tuple[TestClient, dict[str, str], Application],
                              tmp_path: Path) -> None:
    http, headers, application = client
    bomb = zip_bomb(tmp_path / "b.xlsx", 2).read_bytes()
    response = http.post("/api/v1/import/talents", headers=headers,
                         files={"file": ("b.xlsx", bomb, "application/octet-stream")})
    assert response.status_code == 400 and "解压后" in response.json()["message"]
    assert application.store.count("talents") == 0 and application.store.imports() == []


def test_http_import_is_recorded(client: tuple[TestClient, dict[str, str], Application],
                                 tmp_path: Path) -> None:
    http, headers, application = client
    data = write_csv(tmp_path / "t.csv", [HEADER, *talent_rows(3)]).read_bytes()
    response = http.post("/api/v1/import/talents", headers=headers,
                         files={"file": ("我的人才.csv", data, "text/csv")})
    assert response.status_code == 200 and response.json()["inserted"] == 3
    listing = http.get("/api/v1/imports", headers=headers).json()
    [item] = listing["items"]
    assert (item["file_name"], item["status"], item["rows"], item["started_by"]) == (
        "我的人才.csv", "complete", 3, "imp-admin")
    assert item["incomplete"] is False and listing["incomplete"] == []
    assert response.json()["import_id"] == item["id"]
    assert application.store.count("talents") == 3
