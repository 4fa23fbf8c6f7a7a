"""The service layer (#12): the one domain-error table shared by HTTP and the CLI, a bare
``ValueError`` as a logged 500, the encoder mismatch as an actionable 409, and typed PATCH
bodies."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.application import Application
from api.service.app import create_app
from api.service.auth import create_user
from api.services import accounts
from api.services.errors import (
    EXIT_CODES,
    Conflict,
    EncoderMismatch,
    Invalid,
    NotFound,
    exit_code,
    status_of,
)
from data.store.errors import ActiveJobExists, VersionConflict
from data.taxonomy import UnknownValueError
from embeddings.persist import IndexNotBuilt


def test_one_table_gives_status_and_exit_code() -> None:
    assert status_of(NotFound("需求", "N1")) == 404 and str(NotFound("需求", "N1")) == "找不到需求「N1」"
    assert status_of(Invalid("x")) == 422 and status_of(Conflict("x")) == 409
    assert status_of(VersionConflict("S1", 1, 2)) == 409
    assert status_of(UnknownValueError("chain", "火星", ["尼龙新材料"])) == 422
    assert status_of(IndexNotBuilt(Path("/nowhere"))) == 503
    assert status_of(ActiveJobExists("pairing", "J1")) == 409
    assert status_of(ValueError("bug")) is None and exit_code(ValueError("bug")) == 1
    assert {exit_code(Invalid("x")), exit_code(NotFound("x"))} == {EXIT_CODES[422]} == {2}
    mismatch = EncoderMismatch("use-multilingual", "e5-small")
    assert status_of(mismatch) == 409 and "talentmatch index build" in str(mismatch)


@pytest.fixture
def env(prepared_fresh: Application) -> tuple[TestClient, dict[str, str], Application]:
    _, token = create_user(prepared_fresh.store, "s-admin", "admin")
    client = TestClient(create_app(application=prepared_fresh), raise_server_exceptions=False)
    return client, {"Authorization": f"Bearer {token}"}, prepared_fresh


def test_a_bare_value_error_is_a_logged_500(env: tuple[TestClient, dict[str, str], Application],
                                            monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    client, headers, _ = env

    def broken(user: object) -> None:
        raise ValueError("a bug, not the caller's mistake")

    monkeypatch.setattr(accounts, "me", broken)
    with caplog.at_level(logging.ERROR):
        got = client.get("/api/v1/me", headers=headers)
    assert got.status_code == 500 and got.json()["error"] == "internal"
    assert "a bug" not in got.text
    assert any("unexpected error" in r.getMessage() and r.exc_info for r in caplog.records)


def test_encoder_mismatch_is_an_actionable_409(
        env: tuple[TestClient, dict[str, str], Application]) -> None:
    client, headers, application = env
    from embeddings.persist import VersionedFolder

    manifest = VersionedFolder(Path(application.settings.index_dir)).current() / "manifest.json"
    data = json.loads(manifest.read_text("utf-8"))
    data["encoder"] = "another-encoder"
    manifest.write_text(json.dumps(data), "utf-8")
    need = next(iter(application.store.iter("needs")))
    got = client.get(f"/api/v1/needs/{getattr(need, 'id')}/matches", headers=headers)  # noqa: B009
    assert got.status_code == 409, got.text
    body = got.json()
    assert "talentmatch index build" in body["message"]
    assert body["detail"]["built_with"] == "another-encoder"


def test_patch_bodies_are_typed_and_documented(
        env: tuple[TestClient, dict[str, str], Application]) -> None:
    client, headers, application = env
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/api/v1/talents/{id}"]["patch"]["requestBody"]["content"]
    assert body["application/json"]["schema"]["$ref"] == "#/components/schemas/TalentUpdate"
    ok = spec["paths"]["/api/v1/talents/{id}"]["patch"]["responses"]["200"]["content"]
    assert "TalentPublic" in json.dumps(ok)
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "patch", "put"):
                assert any(s.startswith("2") for s in operation["responses"]), (method, path)
    talent = next(iter(application.store.iter("talents")))
    tid = getattr(talent, "id")  # noqa: B009
    changed = client.patch(f"/api/v1/talents/{tid}", headers=headers,
                           json={"research_directions": "尼龙改性、高分子材料"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["research_directions"] == ["尼龙改性", "高分子材料"]
    unknown = client.patch(f"/api/v1/talents/{tid}", headers=headers, json={"nickname": "x"})
    assert unknown.status_code == 422 and unknown.json()["error"] == "invalid"
    bad_chain = client.patch(f"/api/v1/talents/{tid}", headers=headers,
                             json={"chains": ["火星产业"]})
    assert bad_chain.status_code == 422 and "chains" in bad_chain.json()["message"]


def test_a_large_upload_answers_202_with_its_job(
        env: tuple[TestClient, dict[str, str], Application], tmp_path: Path) -> None:
    from api.services.transfer import INLINE_IMPORT_BYTES
    from tests.test_import_files import HEADER, talent_rows, write_csv

    client, headers, _ = env
    rows = 200
    data = write_csv(tmp_path / "t.csv", [HEADER, *talent_rows(rows)]).read_bytes()
    while len(data) <= INLINE_IMPORT_BYTES:
        rows *= 2
        data = write_csv(tmp_path / "t.csv", [HEADER, *talent_rows(rows)]).read_bytes()
    got = client.post("/api/v1/import/talents", headers=headers,
                      files={"file": ("big.csv", data, "text/csv")})
    assert got.status_code == 202, got.text
    job = got.json()
    assert job["kind"] == "import" and got.headers["location"] == f"/api/v1/jobs/{job['id']}"
    assert int(got.headers["content-length"]) == len(got.content)
    done = client.app.state.service.jobs.wait(job["id"], timeout=300)  # type: ignore[attr-defined]
    assert done is not None and done.status == "succeeded", done


def test_search_counts_in_sql_and_bounds_the_offset(
        env: tuple[TestClient, dict[str, str], Application]) -> None:
    client, headers, app = env
    got = client.get("/api/v1/talents", params={"q": "工程", "limit": 5}, headers=headers)
    assert got.status_code == 200
    body = got.json()
    expected = sum(1 for t in app.store.iter("talents")
                   if "工程" in "\n".join(str(v) for v in _scalars(t.model_dump(mode="json"))))
    assert body["total"] == expected > 5 and len(body["items"]) == 5
    huge = client.get("/api/v1/talents", params={"offset": 2**63}, headers=headers)
    assert huge.status_code == 422


def _scalars(data: object) -> list[object]:
    if isinstance(data, dict):
        return [v for x in data.values() for v in _scalars(x)]
    if isinstance(data, list):
        return [v for x in data for v in _scalars(x)]
    return [] if data is None else [data]
