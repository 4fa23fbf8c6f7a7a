"""The API contract (issue #11, section 5): Schemathesis with every check against
``/openapi.json`` of a running service, as admin and anonymously — no server error, no
response outside its schema, no undocumented status code — plus direct checks of the
pieces it relies on (the error shape, ``OPTIONS`` and ``Allow``).

The Schemathesis run is bounded (``--max-examples``) and deterministic
(``--generation-deterministic``); its settings are in ``tests/schemathesis.toml``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.application import Application
from api.service.app import create_app
from api.service.auth import create_user
from api.service.schemas import ErrorOut
from api.service.serving import running_server

CONFIG = Path(__file__).with_name("schemathesis.toml")
MAX_EXAMPLES = 5


@pytest.fixture(scope="module")
def application(prepared: Application) -> Application:
    return prepared


@pytest.fixture(scope="module")
def admin_token(application: Application) -> str:
    return create_user(application.store, "c-admin", "admin")[1]


@pytest.fixture(scope="module")
def client(application: Application) -> TestClient:
    return TestClient(create_app(application=application))


def test_validation_errors_have_the_documented_shape(client: TestClient,
                                                     admin_token: str) -> None:
    h = {"Authorization": f"Bearer {admin_token}"}
    got = client.get("/api/v1/talents?limit=0", headers=h)
    assert got.status_code == 422
    body = ErrorOut.model_validate(got.json())
    assert body.error == "invalid" and "limit" in body.message
    assert isinstance(body.detail, list) and body.detail[0].field == "query.limit"
    spec = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in str(spec)
    responses = spec["paths"]["/api/v1/talents/{id}"]["patch"]["responses"]
    assert {"400", "401", "403", "404", "409", "413", "422", "503"} <= set(responses)
    assert responses["422"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorOut"}
    assert "404" not in spec["paths"]["/api/v1/me"]["get"]["responses"]


def test_options_and_405_list_every_method_of_the_path(client: TestClient,
                                                      admin_token: str) -> None:
    options = client.options("/api/v1/talents/T000001")
    assert options.status_code == 204
    assert options.headers["allow"] == "GET, HEAD, PATCH, DELETE, OPTIONS"
    wrong = client.put("/api/v1/talents/T000001",
                       headers={"Authorization": f"Bearer {admin_token}"}, json={})
    assert wrong.status_code == 405 and wrong.json()["error"] == "method_not_allowed"
    assert wrong.headers["allow"] == "GET, HEAD, PATCH, DELETE, OPTIONS"
    assert client.options("/api/v1/talents").headers["allow"] == "GET, HEAD, POST, OPTIONS"


def test_a_list_field_of_the_wrong_type_is_422_not_500(client: TestClient,
                                                      admin_token: str) -> None:
    got = client.post("/api/v1/enterprises", headers={"Authorization": f"Bearer {admin_token}"},
                      json={"id": "E-X1", "name": "某企业", "chains": False})
    assert got.status_code == 422, got.text
    assert got.json()["detail"][0]["field"] == "chains"


def _schemathesis(base: str, headers: list[str], cwd: Path) -> subprocess.Popen[str]:
    """Start one schemathesis run (its cache folder goes to ``cwd``, not into the checkout)."""
    command = [sys.executable, "-c", "from schemathesis.cli import schemathesis; schemathesis()",
               "--config-file", str(CONFIG), "run", f"{base}/openapi.json",
               "--max-examples", str(MAX_EXAMPLES), "--generation-deterministic",
               "--no-color", "--request-timeout", "60"]
    for header in headers:
        command += ["-H", header]
    cwd.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=cwd)


@pytest.mark.slow
def test_schemathesis_finds_nothing_as_admin_and_anonymously(application: Application,
                                                            admin_token: str,
                                                            tmp_path: Path) -> None:
    """Acceptance (#11): 0 server errors, 0 schema violations, 0 undocumented status codes
    (and nothing else any check reports), as admin and anonymously."""
    callers = {"admin": [f"Authorization: Bearer {admin_token}"], "anonymous": []}
    with running_server(create_app(application=application)) as base:
        started = {who: _schemathesis(base, headers, tmp_path / who)
                   for who, headers in callers.items()}  # both at once: each is CPU-bound
        try:
            outputs = {who: proc.communicate(timeout=900) for who, proc in started.items()}
        finally:
            for proc in started.values():
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    for who, (stdout, stderr) in outputs.items():
        out = stdout + stderr
        assert "API Operations:" in out, out[-3000:]
        assert started[who].returncode == 0 and "No issues found" in out, \
            f"{who}:\n{out[-6000:]}"
