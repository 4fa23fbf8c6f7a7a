"""`make test` / `make run` on a machine without chromium or fonts-noto-cjk (issue #11 §1).

The packages stay installed on this machine (other work uses them); the script is pointed at
paths that do not exist and at a fake ``apt-get`` instead, through its environment overrides.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / ".ci" / "system-deps.sh"
COMMAND = "sudo apt-get update && sudo apt-get install -y chromium fonts-noto-cjk"


def _fake_bin(tmp_path: Path, chromium: Path, font: Path, *, installs: bool) -> Path:
    """A folder with a fake apt-get (logs its arguments; may 'install') and a failing sudo."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "apt.log"
    install = (f'mkdir -p "{chromium.parent}" "{font.parent}"; '
               f'printf "#!/bin/sh\\n" > "{chromium}"; chmod +x "{chromium}"; : > "{font}"'
               if installs else ":")
    (bin_dir / "apt-get").write_text(
        f'#!/bin/sh\necho "$*" >> "{log}"\n'
        f'case "$1" in install) {install} ;; esac\nexit 0\n')
    (bin_dir / "sudo").write_text("#!/bin/sh\nexit 1\n")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    return bin_dir


def _run(tmp_path: Path, *what: str, root: bool, installs: bool = True,
         present: bool = False) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    chromium = tmp_path / "usr" / "bin" / "chromium"
    font = tmp_path / "fonts" / "NotoSansCJK-Regular.ttc"
    bin_dir = _fake_bin(tmp_path, chromium, font, installs=installs)
    if present:
        chromium.parent.mkdir(parents=True)
        chromium.write_text("#!/bin/sh\n")
        chromium.chmod(0o755)
        font.parent.mkdir(parents=True)
        font.write_bytes(b"")
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
           "TALENTMATCH_CHROMIUM": str(chromium), "TALENTMATCH_CJK_FONT": str(font),
           "TALENTMATCH_APT_GET": str(bin_dir / "apt-get"),
           "TALENTMATCH_AS_ROOT": "1" if root else "0"}
    done = subprocess.run(["bash", str(SCRIPT), *what], env=env, capture_output=True,
                          text=True, timeout=60)
    log = tmp_path / "apt.log"
    return done, log.read_text().splitlines() if log.exists() else []


def test_nothing_to_do_when_the_packages_are_there(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, "browser", "fonts", root=True, present=True)
    assert done.returncode == 0, done.stderr
    assert calls == []


def test_root_installs_after_an_update(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, "browser", "fonts", root=True)
    assert done.returncode == 0, done.stderr
    assert calls == ["update -q", "install -y -q chromium fonts-noto-cjk"]


def test_without_root_fails_at_once_with_the_command(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, "browser", "fonts", root=False)
    assert done.returncode == 1
    assert COMMAND in done.stderr
    assert "chromium" in done.stderr and "fonts-noto-cjk" in done.stderr
    assert calls == []


def test_run_needs_only_the_font(tmp_path: Path) -> None:
    done, _ = _run(tmp_path, "fonts", root=False)
    assert done.returncode == 1 and "fonts-noto-cjk" in done.stderr
    assert "找不到" in done.stderr and "chromium（" not in done.stderr


def test_an_install_that_does_not_deliver_fails(tmp_path: Path) -> None:
    done, calls = _run(tmp_path, "browser", "fonts", root=True, installs=False)
    assert done.returncode == 1
    assert "安装后仍缺少" in done.stderr and COMMAND in done.stderr
    assert calls[0] == "update -q"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_test_checks_first_and_requires_the_browser() -> None:
    lines = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), "test"], capture_output=True,
                           text=True, check=True).stdout.splitlines()
    assert lines[0] == ".ci/system-deps.sh browser fonts"
    assert lines[-1].startswith("TALENTMATCH_REQUIRE_BROWSER=1 ") and "pytest" in lines[-1]
    run = subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), "run"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert run[0] == ".ci/system-deps.sh fonts"


def test_browser_tests_fail_instead_of_skipping_under_make_test(tmp_path: Path) -> None:
    env = {**os.environ, "TALENTMATCH_REQUIRE_BROWSER": "1",
           "TALENTMATCH_CHROMIUM": str(tmp_path / "no-chromium")}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(ROOT / "tests" / "test_browser.py"), "-k", "demand_map"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0, done.stdout[-2000:]
    assert "skipped" not in done.stdout.splitlines()[-1], done.stdout[-2000:]
    assert "sudo apt-get install -y chromium fonts-noto-cjk" in done.stdout
