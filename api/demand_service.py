"""The demand map as the service keeps it: computed by a background job, read by requests.

A request never computes the map. :func:`saved_map` reads the full map that the last
recompute job (or ``talentmatch demand-map``) wrote beside the serving index version;
:func:`last_map` the last one saved whatever the index version (after an index update,
the page shows the previous version's map, marked as such, until an admin recomputes);
:func:`compute_and_save` is the job's work: compute, compare with the previous snapshot,
save the JSON and draw the pictures next to it. :func:`picture` reads a saved picture
(drawing it once from the saved map when only the JSON is there, e.g. after the CLI).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

PICTURES = {"heatmap.png": "image/png", "heatmap.svg": "image/svg+xml",
            "bars.png": "image/png", "bars.svg": "image/svg+xml"}
"""The pictures of a map: file name → media type."""

_draw_lock = threading.Lock()


def index_version(app: Any) -> str | None:
    """The serving index version name (None when no index is built)."""
    from embeddings.persist import VersionedFolder

    return VersionedFolder(Path(app.settings.index_dir)).current_name()


def saved_map(app: Any, by: Sequence[str], threshold: float | None) -> dict[str, Any] | None:
    """The saved full map (``DemandMap.to_dict()``) of the serving index version, or None."""
    from api.demand_export import load_cached

    return load_cached(app, by, threshold)


def last_map(app: Any, by: Sequence[str],
             threshold: float | None) -> tuple[dict[str, Any], str] | None:
    """The last saved full map and the index version it was computed for (the serving one,
    or an older one when the serving version's is not computed yet); None if none."""
    from api.demand_export import last_cached_path

    found = last_cached_path(app, by, threshold)
    if found is None:
        return None
    version, path = found
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:  # pruned between the two reads
        return None
    return data, version


def pictures_dir(app: Any, by: Sequence[str], threshold: float | None) -> Path | None:
    """The folder of the pictures of the last saved map (:func:`last_map`; None without
    one)."""
    from api.demand_export import last_cached_path

    found = last_cached_path(app, by, threshold)
    return None if found is None else found[1].with_suffix(".pictures")


def draw_pictures(app: Any, data: dict[str, Any], threshold: float | None,
                  version: str | None = None) -> Path | None:
    """Draw the heatmap and bars of ``data`` next to its saved JSON (the last saved map of
    its parameters, computed for index ``version``: default the serving one); returns the
    folder."""
    from api.demand_pictures import bars, heatmap

    folder = pictures_dir(app, data["by"], threshold)
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    # Drawn aside, then each file renamed into place: another worker (or job process)
    # reading a picture never sees half of one, even while both draw it.
    staged = folder.with_name(f".{folder.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    staged.mkdir(parents=True, exist_ok=True)
    try:
        rows, cols = [*data["by"], "total"][:2]
        day = dt.date.today().isoformat()
        totals = data.get("totals", {})
        source = (f"来源：talentmatch 需求地图（{app.settings.city}人才库与开放需求 "
                  f"{totals.get('needs', 0)} 项，索引版本 {version or index_version(app) or '—'}，"
                  f"强匹配阈值 {data.get('threshold')}）；灰色斜线格为无需求")
        heatmap(data["cells"], staged, rows=rows, cols=cols, city=app.settings.city, day=day,
                source=source)
        bars(data["clusters"].get("cells", []), staged)
        for drawn in staged.iterdir():
            os.replace(drawn, folder / drawn.name)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return folder


def picture(app: Any, by: Sequence[str], threshold: float | None, name: str) -> bytes | None:
    """The bytes of a picture of the last saved map (:func:`last_map`; drawn once from it
    if missing), or None when no map was computed yet."""
    folder = pictures_dir(app, by, threshold)
    if folder is None or name not in PICTURES:
        return None
    if not (folder / name).exists():
        found = last_map(app, by, threshold)
        if found is None:
            return None
        with _draw_lock:
            if not (folder / name).exists():
                draw_pictures(app, found[0], threshold, found[1])
    return (folder / name).read_bytes()


def compute_and_save(app: Any, by: Sequence[str], threshold: float | None,
                     progress: Callable[[Iterable[Any]], Iterable[Any]] = iter
                     ) -> dict[str, Any]:
    """Compute the map, compare it with the previous snapshot, save it and its pictures.

    Args:
        app: the application.
        by: cell dimensions.
        threshold: strong-supply score (None: the default).
        progress: wraps the per-need loop.

    Returns:
        A summary: by, threshold, needs, cells, scarce, index version.
    """
    from api.demand_export import compute, previous_snapshot, save_cached
    from matching.demand_map import apply_previous

    version = index_version(app)
    dm = compute(app, by=tuple(by), threshold=threshold, progress=progress)
    prev_id, prev = previous_snapshot(app, dm.by)
    data = apply_previous(dm, prev, prev_id).to_dict()
    save_cached(app, data, threshold)
    draw_pictures(app, data, threshold)
    return {"by": list(data["by"]), "threshold": threshold, "index_version": version,
            "needs": data["totals"].get("needs"), "cells": len(data["cells"]),
            "scarce": len(data["scarce"])}
