"""The demand map from the application (store, index, matcher), its snapshots and its files.

:func:`compute` reads the open needs of a city, ranks talents for each with the workflows'
matcher, clusters the needs by expertise and calls :func:`matching.demand_map.build_demand_map`.
:func:`save_snapshot` keeps the aggregate cells as a ``demand_map`` run; :func:`write_outputs`
writes demand_map.json, demand_map.csv (UTF-8 BOM), heatmap/bars PNG + SVG and scarce.xlsx.
:func:`view_for_role` cuts the map down for enterprise users: their own needs plus aggregates.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from matching.demand_map import (
    DEFAULT_QUANTILE,
    DEFAULT_THRESHOLD,
    Candidate,
    DemandMap,
    TalentInfo,
    apply_previous,
    build_demand_map,
    quantile_threshold,
    snapshot,
)

RUN_KIND = "demand_map"
MATCHES_PER_NEED = 20
FILES = ("demand_map.json", "demand_map.csv", "heatmap.png", "heatmap.svg", "bars.png",
         "bars.svg", "scarce.xlsx")
CSV_HEADERS = {"chain": "产业链", "county": "县区", "cluster": "专业方向", "kind": "需求类型",
               "needs": "需求数", "weight": "需求权重", "covered": "已覆盖需求数",
               "strong_talents": "强匹配人才数", "scarcity": "紧缺指数",
               "scarcity_ratio": "紧缺比例", "change": "较上期变化"}


def _need_vectors(app: Any) -> dict[str, Any]:
    """Need embeddings from the serving index version ({} when none is built)."""
    from embeddings.index import DirectionData
    from embeddings.persist import VersionedFolder

    folder = VersionedFolder(Path(app.settings.index_dir))
    if folder.current_name() is None:
        return {}
    data = DirectionData.load(folder.current() / "needs", mmap=True)
    return {i: data.profile[j] for j, i in enumerate(data.ids)}


def need_clusters(app: Any, needs: Sequence[Any], city: str) -> dict[str, str]:
    """Expertise cluster label per need id (KMeans over the indexed need vectors)."""
    from embeddings.render import need_text
    from matching.clusters import NeedDoc, expertise_clusters

    terms = [t for ts in app.taxonomy.chain_terms(city).values() for t in ts]
    docs = [NeedDoc(n.id, need_text(n), tuple(n.required_expertise)) for n in needs]
    return expertise_clusters(docs, _need_vectors(app), terms)


def gather(app: Any, needs: Sequence[Any], k: int = MATCHES_PER_NEED,
           progress: Callable[[Iterable[Any]], Iterable[Any]] = iter
           ) -> tuple[dict[str, list[Candidate]], dict[str, TalentInfo], str]:
    """Ranked candidates per need, the candidates' attributes and the scorer name."""
    wf = app.workflows()
    candidates: dict[str, list[Candidate]] = {}
    talents: dict[str, TalentInfo] = {}
    scorer = "fused"
    for need in progress(needs):
        result, found = wf.ranked(need, k)
        scorer = result.scorer
        candidates[need.id] = [
            Candidate(m.talent_id, float(m.score), tuple(m.details.get("matched_terms", [])),
                      tuple(m.details.get("required_terms", []))) for m in result.matches]
        for m in result.matches:
            t = found.get(m.talent_id)
            if t is not None and t.id not in talents:
                talents[t.id] = TalentInfo(t.id, t.category, t.level, t.hometown_county,
                                           t.current_city, tuple(t.intent))
    return candidates, talents, scorer


def compute(app: Any, *, by: Sequence[str] = ("chain", "county"), threshold: float | None = None,
            city: str | None = None, today: dt.date | None = None,
            progress: Callable[[Iterable[Any]], Iterable[Any]] = iter) -> DemandMap:
    """The demand map of a city's open needs (not stored).

    Args:
        app: the :class:`api.application.Application`.
        by: cell dimensions (chain, county, cluster, kind).
        threshold: strong-supply score; default :data:`DEFAULT_THRESHOLD` for the fused
            scorer, the :data:`DEFAULT_QUANTILE` quantile of all scores for a trained ranker.
        city: the city (default: settings).
        today: reference day for urgency.
        progress: wraps the per-need loop.

    Returns:
        The map, with ``clusters`` holding the per-cluster aggregate (for the bar chart).
    """
    city = city or app.settings.city
    needs = [n for n in app.workflows().open_needs() if n.city == city]
    candidates, talents, scorer = gather(app, needs, progress=progress)
    if threshold is None:
        threshold = (DEFAULT_THRESHOLD if scorer == "fused"
                     else quantile_threshold(candidates, DEFAULT_QUANTILE))
    clusters = need_clusters(app, needs, city)
    counties = app.taxonomy.city(city).vocabs["county"].names
    common = {"threshold": threshold, "clusters": clusters, "city": city, "counties": counties,
              "today": today}
    dm = build_demand_map(needs, candidates, talents, by=tuple(by), **common)
    per_cluster = build_demand_map(needs, candidates, talents, by=("cluster",), **common)
    dm.clusters = {"scorer": scorer, "city": city, "cells": [
        {"label": c.key["cluster"], "needs": c.needs, "weight": c.weight,
         "scarcity": c.scarcity, "scarcity_ratio": c.scarcity_ratio,
         "strong_talents": c.strong_talents} for c in per_cluster.cells]}
    return dm


def previous_snapshot(app: Any, by: Sequence[str], city: str | None = None
                      ) -> tuple[str | None, dict[str, Any] | None]:
    """The newest stored snapshot of ``city`` (default: the settings') with the same ``by``
    (run id, snapshot), or (None, None). A snapshot stored before snapshots named their
    city (one city per installation then) counts as any city's."""
    city = city or app.settings.city
    for run in app.store.runs(RUN_KIND):
        result = run.get("result") or {}
        if list(result.get("by", [])) == list(by) and result.get("city", city) == city:
            return str(run["id"]), result
    return None, None


def save_snapshot(app: Any, dm: DemandMap, started_by: str = "cli",
                  city: str | None = None) -> str:
    """Store the map's aggregate cells as a ``demand_map`` run of ``city`` (default: the
    settings'); returns the run id."""
    city = city or app.settings.city
    run_id = f"D{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6]}"
    app.store.add_run({"id": run_id, "kind": RUN_KIND, "started_by": started_by,
                       "params": {"by": dm.by, "threshold": dm.threshold, "city": city},
                       "solver": None, "objective": float(dm.totals["scarcity"]),
                       "duration_s": 0.0, "partial": False,
                       "result": {**snapshot(dm), "city": city}}, [])
    return run_id


def run_demand_map(app: Any, *, by: Sequence[str] = ("chain", "county"),
                   threshold: float | None = None, city: str | None = None,
                   started_by: str = "cli", store: bool = True,
                   progress: Callable[[Iterable[Any]], Iterable[Any]] = iter) -> DemandMap:
    """Compute the map, compare it with the previous snapshot, and store a new one.

    Args:
        app: the application.
        by: cell dimensions.
        threshold: strong-supply score (see :func:`compute`).
        city: the city.
        started_by: who ran it (audit).
        store: keep a snapshot.
        progress: wraps the per-need loop.

    Returns:
        The map (``previous`` names the snapshot it was compared with).
    """
    dm = compute(app, by=by, threshold=threshold, city=city, progress=progress)
    prev_id, prev = previous_snapshot(app, dm.by, city)
    apply_previous(dm, prev, prev_id)
    if store:
        dm.totals["snapshot"] = save_snapshot(app, dm, started_by, city)
    save_cached(app, dm.to_dict(), threshold)
    return dm


def cache_path(app: Any, by: Sequence[str], threshold: float | None) -> Path | None:
    """Where the full map of the serving index version is cached (None without an index)."""
    from embeddings.persist import VersionedFolder

    version = VersionedFolder(Path(app.settings.index_dir)).current_name()
    if version is None:
        return None
    name = f"{version}-{app.settings.city}-{'_'.join(by)}-{threshold if threshold else 'default'}"
    return Path(app.settings.index_dir) / "demand_map" / f"{name}.json"


def save_cached(app: Any, data: dict[str, Any], threshold: float | None) -> None:
    """Keep ``DemandMap.to_dict()`` beside the index, for the service page."""
    path = cache_path(app, data["by"], threshold)
    if path is not None:  # written aside, then renamed: other workers never read half a file
        path.parent.mkdir(parents=True, exist_ok=True)
        staged = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        staged.write_text(json.dumps(data, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(staged, path)


def load_cached(app: Any, by: Sequence[str], threshold: float | None) -> dict[str, Any] | None:
    """The cached full map of the serving index version, or None."""
    path = cache_path(app, by, threshold)
    if path is None or not path.exists():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def last_cached_path(app: Any, by: Sequence[str],
                     threshold: float | None) -> tuple[str, Path] | None:
    """The last saved full map for these parameters: the serving index version's, else the
    most recently saved one of an older version (same city, dimensions and threshold), as
    (its index version, its path); None when none was ever saved (or no index is built)."""
    from embeddings.persist import VersionedFolder

    current = cache_path(app, by, threshold)
    version = VersionedFolder(Path(app.settings.index_dir)).current_name()
    if current is None or version is None:
        return None
    if current.exists():
        return version, current
    suffix = current.name[len(version):]
    older = [p for p in current.parent.glob("v*.json")
             if p.name.endswith(suffix) and re.fullmatch(r"v\d+(-[0-9A-Za-z]+)*", p.name[:-len(suffix)])]
    if not older:
        return None
    newest = max(older, key=lambda p: (p.stat().st_mtime, p.name))
    return newest.name[:-len(suffix)], newest


def view_for_role(data: dict[str, Any], role: str,
                  own_need_ids: Iterable[str] = ()) -> dict[str, Any]:
    """The map as a role may see it: an enterprise sees its own needs plus aggregates.

    Args:
        data: ``DemandMap.to_dict()``.
        role: admin, reviewer, organizer or enterprise.
        own_need_ids: the enterprise's own need and challenge ids.

    Returns:
        A copy. For enterprises (and any role not listed): cells keep their aggregates but
        list only the enterprise's own need ids; the 紧缺 list holds only its own needs,
        without the nearest candidates' identities; no talent ids anywhere.
    """
    out = json.loads(json.dumps(data, ensure_ascii=False, default=str))
    if role in ("admin", "reviewer", "organizer"):
        return out
    own = set(own_need_ids)
    for cell in out["cells"]:
        cell.pop("talent_ids", None)
        cell["need_ids"] = [n for n in cell.get("need_ids", []) if n in own]
    out["scarce"] = [
        {**item, "nearest": [{"score": c["score"], "missing_terms": c["missing_terms"]}
                             for c in item.get("nearest", [])]}
        for item in out["scarce"] if item.get("need_id") in own]
    for item in out["high_end"]:
        item.pop("talent_ids", None)
    return out


def cells_frame(dm: DemandMap) -> pd.DataFrame:
    """The cells as a table with Chinese headers."""
    rows = [{**c.key, "needs": c.needs, "weight": c.weight, "covered": c.covered,
             "strong_talents": c.strong_talents, "scarcity": c.scarcity,
             "scarcity_ratio": c.scarcity_ratio, "change": c.change} for c in dm.cells]
    frame = pd.DataFrame(rows, columns=[*dm.by, *list(CSV_HEADERS)[4:]])
    return frame.rename(columns=CSV_HEADERS)


def _scarce_frame(dm: DemandMap) -> pd.DataFrame:
    rows = [{"需求编号": s["need_id"], "需求": s["title"], "产业链": s["chain"], "县区": s["county"],
             "需求权重": s["weight"], "最高匹配分": s["best_score"],
             "最近人才": "；".join(f"{c['talent_id']}({c['score']}) 缺: {'、'.join(c['missing_terms']) or '无'}"
                               for c in s["nearest"])} for s in dm.scarce]
    return pd.DataFrame(rows, columns=["需求编号", "需求", "产业链", "县区", "需求权重",
                                       "最高匹配分", "最近人才"])


def _high_end_frame(dm: DemandMap) -> pd.DataFrame:
    rows = [{"单元": h["label"], "需求数": h["needs"], "紧缺指数": h["scarcity"],
             "强匹配人才数": h["strong_talents"], "A/B类人才": h["high_level"],
             "市外人才": h["out_of_city"], "柔性引进对象": "、".join(h["talent_ids"])}
            for h in dm.high_end]
    return pd.DataFrame(rows, columns=["单元", "需求数", "紧缺指数", "强匹配人才数", "A/B类人才",
                                       "市外人才", "柔性引进对象"])


def write_outputs(dm: DemandMap, out: Path) -> list[Path]:
    """Write every file of the map into ``out`` (see :data:`FILES`).

    Args:
        dm: the map.
        out: the folder (created).

    Returns:
        The written paths.
    """
    from api.demand_pictures import bars, heatmap
    from data.io.exporter import write_sheets
    from data.io.formulas import neutralise_frame

    out.mkdir(parents=True, exist_ok=True)
    data = dm.to_dict()
    (out / "demand_map.json").write_text(json.dumps(data, ensure_ascii=False, indent=1,
                                                    default=str), encoding="utf-8")
    neutralise_frame(cells_frame(dm)).to_csv(out / "demand_map.csv", index=False,
                                             encoding="utf-8-sig")
    rows, cols = [*dm.by, "total"][:2]
    written = [out / "demand_map.json", out / "demand_map.csv"]
    written += heatmap(data["cells"], out, rows=rows, cols=cols)
    written += bars(dm.clusters.get("cells", []), out)
    written.append(write_sheets({"单元格": cells_frame(dm), "紧缺需求": _scarce_frame(dm),
                                 "高精尖": _high_end_frame(dm)}, out / "scarce.xlsx"))
    return written
