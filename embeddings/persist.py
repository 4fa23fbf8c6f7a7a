"""Versioned index folders with a manifest and an atomic switch (the index's use of
:mod:`data.versioned`, which holds the protocol and the atomic writes).

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

from pathlib import Path

from data.versioned import (
    BUILDER_PID,
    CURRENT,
    MANIFEST,
    NoCurrentVersion,
    write_json_atomic,
)
from data.versioned import VersionedFolder as _VersionedFolder

__all__ = [
    "BUILDER_PID",
    "CURRENT",
    "MANIFEST",
    "IndexNotBuilt",
    "VersionedFolder",
    "write_json_atomic",
]


class IndexNotBuilt(NoCurrentVersion):
    """No complete index version exists in the folder."""

    def __init__(self, root: Path) -> None:
        super().__init__(root, f"索引尚未建立: {root}（请先运行 `talentmatch index build`）")


class VersionedFolder(_VersionedFolder):
    """The index folder: versions, the current pointer and the build protocol."""

    def not_built(self) -> Exception:
        """:class:`IndexNotBuilt`, whose message names the command to run."""
        return IndexNotBuilt(self.root)
