"""Versioned index folders with a manifest and an atomic switch.

Layout of the index folder (the setting ``TALENTMATCH_INDEX_DIR``)::

    index/
      CURRENT                 # name of the serving version, replaced atomically
      versions/
        v000001-20261123T101500/
          manifest.json       # written last: a version without it is incomplete
          talents/ …          # whatever the builder writes
          needs/ …
      .building-<random>/     # a build in progress; left behind by a crash, removed later

A build writes everything into a fresh ``.building-*`` folder, writes ``manifest.json``,
renames the folder into ``versions/`` and only then replaces ``CURRENT`` (write a temporary
file, fsync, ``os.replace``). A process killed at any point before that last step leaves
``CURRENT`` naming the previous version, which keeps serving.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
CURRENT = "CURRENT"
BUILDER_PID = ".builder.pid"


class IndexNotBuilt(RuntimeError):
    """No complete index version exists in the folder."""

    def __init__(self, root: Path) -> None:
        super().__init__(f"索引尚未建立: {root}（请先运行 `talentmatch index build`）")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON to ``path`` through a temporary file and ``os.replace``."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2, default=str)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class VersionedFolder:
    """The index folder: versions, the current pointer and the build protocol."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.versions = self.root / "versions"

    def current_name(self) -> str | None:
        """Name of the serving version, or None when nothing was built."""
        pointer = self.root / CURRENT
        if not pointer.exists():
            return None
        name = pointer.read_text(encoding="utf-8").strip()
        return name if (self.versions / name / MANIFEST).exists() else None

    def current(self) -> Path:
        """Folder of the serving version.

        Raises:
            IndexNotBuilt: when no complete version exists.
        """
        name = self.current_name()
        if name is None:
            raise IndexNotBuilt(self.root)
        return self.versions / name

    def manifest(self) -> dict[str, Any]:
        """The serving version's manifest."""
        data: dict[str, Any] = json.loads((self.current() / MANIFEST).read_text("utf-8"))
        return data

    def _next_number(self) -> int:
        numbers = [int(p.name[1:7]) for p in self.versions.glob("v[0-9]*") if p.name[1:7].isdigit()]
        return max(numbers, default=0) + 1

    @contextmanager
    def build(self, manifest: dict[str, Any]) -> Iterator[Path]:
        """Build a new version: yields an empty folder to fill, then switches to it.

        Args:
            manifest: what to record; ``version`` and ``built_at`` are added.

        Yields:
            The folder to write the new version into.
        """
        self.versions.mkdir(parents=True, exist_ok=True)
        self.cleanup_stale()
        work = Path(tempfile.mkdtemp(prefix=".building-", dir=self.root))
        (work / BUILDER_PID).write_text(str(os.getpid()), encoding="utf-8")
        try:
            yield work
            now = datetime.now(UTC)
            name = f"v{self._next_number():06d}-{now:%Y%m%dT%H%M%S}"
            manifest = {**manifest, "version": name, "built_at": now.isoformat()}
            (work / BUILDER_PID).unlink()
            write_json_atomic(work / MANIFEST, manifest)
            target = self.versions / name
            os.replace(work, target)
            _fsync_dir(self.versions)
            self._switch(name)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise

    def _switch(self, name: str) -> None:
        tmp = self.root / f".{CURRENT}.tmp-{os.getpid()}"
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.root / CURRENT)
        _fsync_dir(self.root)

    def cleanup_stale(self) -> list[str]:
        """Remove folders of builds that never finished (a crash's leftovers)."""
        removed = []
        for path in self.root.glob(".building-*"):
            if path.is_dir() and not _owner_alive(path):
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path.name)
        return removed

    def prune(self, keep: int = 2) -> list[str]:
        """Delete old versions, keeping the newest ``keep`` and the serving one."""
        current = self.current_name()
        names = sorted(p.name for p in self.versions.glob("v[0-9]*") if p.is_dir())
        doomed = [n for n in names[:-keep] if n != current] if keep > 0 else []
        for name in doomed:
            shutil.rmtree(self.versions / name, ignore_errors=True)
        return doomed

    def list_versions(self) -> list[str]:
        """Names of complete versions, oldest first."""
        return sorted(p.name for p in self.versions.glob("v[0-9]*") if (p / MANIFEST).exists())


def _owner_alive(path: Path) -> bool:
    """True when the process that started a build folder is still running."""
    try:
        pid = int((path / BUILDER_PID).read_text(encoding="utf-8"))
        os.kill(pid, 0)
    except (FileNotFoundError, ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
