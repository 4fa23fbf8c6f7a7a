"""Versioned folders with a manifest and an atomic switch, and atomic file writes.

The one place that knows how to publish a folder of files so that a crash at any point
leaves the previous state serving. The index (:mod:`embeddings.persist`) and the learned
ranker (:mod:`matching.ranker`) both persist through it.

Layout of a :class:`VersionedFolder` (the index folder, ``TALENTMATCH_INDEX_DIR``)::

    root/
      CURRENT                 # name of the serving version, replaced atomically
      versions/
        v000001-20261123T101500/
          manifest.json       # written last: a version without it is incomplete
          …                   # whatever the builder writes
      .building-<random>/     # a build in progress; left behind by a crash, removed later

A build writes everything into a fresh ``.building-*`` folder (:func:`staging`), writes
``manifest.json``, renames the folder into place (:func:`publish`: fsync of the files, rename,
fsync of the parent folder) and only then replaces the pointer (:func:`write_text_atomic`:
write a temporary file, fsync, ``os.replace``, fsync of the folder).
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
STAGING_PREFIX = ".building-"


class NoCurrentVersion(RuntimeError):
    """No complete version exists in a versioned folder."""

    def __init__(self, root: Path, message: str | None = None) -> None:
        self.root = Path(root)
        super().__init__(message or f"no complete version in {root}")


def fsync_dir(path: Path) -> None:
    """Flush a folder's entries (renames, new files) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Flush one file's contents to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text_atomic(path: Path, text: str, sync_dir: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file, fsync and ``os.replace``.

    Args:
        path: the file to (re)place.
        text: its new contents (UTF-8).
        sync_dir: also fsync the containing folder, so that the rename itself is durable.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    if sync_dir:
        fsync_dir(path.parent)


def write_json_atomic(path: Path, obj: Any) -> None:
    """Write JSON (UTF-8, indented) to ``path`` through a temporary file and ``os.replace``."""
    write_text_atomic(path, json.dumps(obj, ensure_ascii=False, indent=2, default=str))


@contextmanager
def staging(root: Path) -> Iterator[Path]:
    """A fresh ``.building-*`` folder under ``root``, removed again if the block fails.

    The folder records the builder's pid, so that :func:`cleanup_stale` removes it only once
    its builder is gone. On success the caller publishes it (:func:`publish`) inside the block.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    cleanup_stale(root)
    work = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=root))
    (work / BUILDER_PID).write_text(str(os.getpid()), encoding="utf-8")
    try:
        yield work
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def publish(work: Path, target: Path) -> None:
    """Make a staged folder durable and move it to ``target`` in one rename.

    Every file directly in ``work`` is fsynced (builders that write subfolders fsync their
    own files or accept the folder-level guarantee), then ``work`` is renamed to ``target``
    and the parent folder is fsynced.
    """
    (work / BUILDER_PID).unlink(missing_ok=True)
    for path in work.iterdir():
        if path.is_file():
            fsync_file(path)
    os.replace(work, target)
    fsync_dir(target.parent)


def cleanup_stale(root: Path) -> list[str]:
    """Remove ``.building-*`` folders of builds that never finished (a crash's leftovers)."""
    removed = []
    for path in Path(root).glob(f"{STAGING_PREFIX}*"):
        if path.is_dir() and not _owner_alive(path):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path.name)
    return removed


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


class VersionedFolder:
    """A folder of versions, the current pointer and the build protocol."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.versions = self.root / "versions"

    def not_built(self) -> Exception:
        """The error :meth:`current` raises when no complete version exists."""
        return NoCurrentVersion(self.root)

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
            NoCurrentVersion: (or what :meth:`not_built` returns) when no complete version
                exists.
        """
        name = self.current_name()
        if name is None:
            raise self.not_built()
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
        with staging(self.root) as work:
            yield work
            now = datetime.now(UTC)
            name = f"v{self._next_number():06d}-{now:%Y%m%dT%H%M%S}"
            manifest = {**manifest, "version": name, "built_at": now.isoformat()}
            (work / BUILDER_PID).unlink()
            write_json_atomic(work / MANIFEST, manifest)
            publish(work, self.versions / name)
            self._switch(name)

    def _switch(self, name: str) -> None:
        write_text_atomic(self.root / CURRENT, name + "\n", sync_dir=True)

    def cleanup_stale(self) -> list[str]:
        """Remove folders of builds that never finished (a crash's leftovers)."""
        return cleanup_stale(self.root)

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
