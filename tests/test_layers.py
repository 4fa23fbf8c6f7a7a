"""Package layers and module size (#12): the import-linter contracts of pyproject.toml hold
(lower layers one way; routers and pages import only the service layer, no router imports
another, no page imports a router), and no module of the packages grows past 450 lines."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SIZED = ("data", "embeddings", "matching", "evaluation", "benchmarks", "api")
MAX_LINES = 450


def test_no_module_over_450_lines() -> None:
    big = {}
    for package in SIZED:
        for path in (ROOT / package).rglob("*.py"):
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                big[str(path.relative_to(ROOT))] = lines
    assert big == {}, f"modules over {MAX_LINES} lines: {big} (split them by concern)"


def test_import_contracts_hold() -> None:
    exe = Path(sys.executable).parent / "lint-imports"
    command = [str(exe)] if exe.exists() else [shutil.which("lint-imports") or "lint-imports"]
    done = subprocess.run([*command, "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_no_any_in_the_service_layer_signatures() -> None:
    import ast

    found = []
    for path in sorted((ROOT / "api" / "services").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                args = node.args
                every = [*args.posonlyargs, *args.args, *args.kwonlyargs,
                         *(a for a in (args.vararg, args.kwarg) if a is not None)]
                annotations = [a.annotation for a in every] + [node.returns]
                found += [f"{path.name}:{node.lineno} {node.name}" for a in annotations
                          if a is not None and "Any" in ast.unparse(a)]
    assert found == [], f"Any in api/services signatures: {found}"
