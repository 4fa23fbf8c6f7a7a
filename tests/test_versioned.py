"""data/versioned.py (#12): the shared versioned-folder code of the index and the ranker."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from data import versioned
from data.versioned import NoCurrentVersion, VersionedFolder, publish, staging
from embeddings.persist import IndexNotBuilt
from embeddings.persist import VersionedFolder as IndexFolder
from matching.ranker import RankerModel, train_ranker
from tests.test_ranker import synthetic


def test_staging_is_removed_when_the_build_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), staging(tmp_path) as work:
        (work / "half.bin").write_bytes(b"x")
        raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []


def test_publish_fsyncs_and_renames(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = os.fsync
    monkeypatch.setattr(versioned.os, "fsync", lambda fd: (synced.append(str(fd)), real(fd)))
    with staging(tmp_path) as work:
        (work / "a.txt").write_text("a", encoding="utf-8")
        publish(work, tmp_path / "v1")
    assert (tmp_path / "v1" / "a.txt").read_text(encoding="utf-8") == "a"
    assert not any(p.name.startswith(".building-") for p in tmp_path.iterdir())
    assert len(synced) >= 2  # the file and the folder


def test_the_index_folder_keeps_its_error(tmp_path: Path) -> None:
    with pytest.raises(NoCurrentVersion):
        VersionedFolder(tmp_path).current()
    with pytest.raises(IndexNotBuilt, match="index build"):
        IndexFolder(tmp_path).current()


def test_ranker_saves_through_the_shared_code(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    real = versioned.publish
    monkeypatch.setattr("matching.ranker.publish",
                        lambda work, target: (calls.append(target), real(work, target)))
    model = train_ranker(synthetic(100, 6), min_decisions=50)
    assert model is not None
    folder = model.save(tmp_path)
    assert calls == [folder] and folder.name == "v0001"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["current.json", "v0001"]
    assert RankerModel.load(tmp_path).version == 1
