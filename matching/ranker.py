"""The learned ranker: logistic regression on standardised features, from review decisions.

Trained from approved (label 1) vs rejected (label 0) suggestions, each given as the
feature dict stored with the suggestion (:data:`matching.scorer.SCORER_FEATURES`; a name
missing from a dict reads 0). It is used once at least ``min_decisions`` decisions with both
labels exist (:data:`MIN_DECISIONS`, 50); below that :func:`train_ranker` returns ``None``
and the caller keeps the fused weights (:func:`scorer_info` says so).

Scores and contributions: with ``z_j = (x_j − mean_j) / scale_j`` and coefficients ``c_j``,
the contribution of feature ``j`` is ``c_j · z_j`` and the score is the logit
``intercept + Σ_j c_j · z_j``. A contribution is positive only when the feature pushes the
pair *above* an average training pair, so an explanation that states only positive
contributions (:func:`matching.explain.explain`) claims only what raised this pair.

Versions: :meth:`RankerModel.save` writes ``<root>/v0001/`` (``model.joblib`` and
``meta.json``: version, trained_at, n_examples, n_positive, feature_names, coefficients,
metrics) with the next free number and points ``<root>/current.json`` at it. Writes go
through :mod:`data.versioned`, like the index's: the version is written into a
``.building-*`` folder, fsynced and renamed into place, then ``current.json`` is replaced
atomically (temporary file, fsync, rename). :meth:`RankerModel.load` reads the current (or a
given) version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.preprocessing import StandardScaler

from data.versioned import publish, staging, write_text_atomic
from matching.scorer import SCORER_FEATURES, to_matrix

MIN_DECISIONS = 50
DEFAULT_C = 1.0
CV_FOLDS = 5
CURRENT = "current.json"
_VERSION_RE = re.compile(r"^v(\d{4,})$")

Example = tuple[Mapping[str, float], int | bool]


class RankerNotTrained(LookupError):
    """No ranker version exists in the folder."""


@dataclass
class RankerModel:
    """A trained ranker (see the module doc); ``version`` is 0 until saved."""

    scaler: StandardScaler
    model: LogisticRegression
    feature_names: tuple[str, ...]
    n_examples: int
    n_positive: int
    metrics: dict[str, float] = field(default_factory=dict)
    trained_at: str = ""
    version: int = 0
    name: str = "ranker"
    kind: str = "decisions"
    platt: tuple[float, float] = (1.0, 0.0)
    head: tuple[float, ...] = ()
    """The weak-need head model (:func:`matching.strength.fit_head`); empty: none."""

    # -- scoring ----------------------------------------------------------------------------
    def score(self, features_matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Logit scores and per-feature contributions ``coef · standardised value``.

        Args:
            features_matrix: ``(n, f)`` values in ``feature_names`` order.

        Returns:
            ``(scores, contributions)``; ``scores == intercept + contributions.sum(axis=1)``.
        """
        x = np.asarray(features_matrix, dtype=np.float64).reshape(-1, len(self.feature_names))
        z = self.scaler.transform(x)
        contributions = z * self.model.coef_[0]
        return float(self.model.intercept_[0]) + contributions.sum(axis=1), contributions

    @property
    def calibrated(self) -> bool:
        """Whether this version scores calibrated probabilities (see matching.calibration)."""
        return self.kind == "calibrated"

    def probability(self, features_matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated P(relevant) per row: ``sigmoid(a · logit + b)`` (Platt scaling).

        Strictly increasing in the logit when ``a > 0`` (training makes sure it is), and
        bounded in (0, 1).

        Args:
            features_matrix: ``(n, f)`` values in ``feature_names`` order.

        Returns:
            ``(probabilities, logits)``.
        """
        logits, _ = self.score(features_matrix)
        a, b = self.platt
        return 1.0 / (1.0 + np.exp(-(a * logits + b))), logits

    def score_dicts(self, rows: Sequence[Mapping[str, float]]) -> np.ndarray:
        """Scores of feature dicts (convenience for callers holding dicts).

        Args:
            rows: one feature dict per pair.

        Returns:
            ``(n,)`` scores.
        """
        return self.score(to_matrix(rows, self.feature_names))[0]

    @property
    def coefficients(self) -> dict[str, float]:
        """Coefficient per feature (on standardised values)."""
        return {n: float(c) for n, c in zip(self.feature_names, self.model.coef_[0], strict=True)}

    def info(self) -> dict[str, Any]:
        """The version's metadata (what ``meta.json`` holds)."""
        return {
            "scorer": self.name, "version": self.version, "trained_at": self.trained_at,
            "n_examples": self.n_examples, "n_positive": self.n_positive,
            "feature_names": list(self.feature_names), "coefficients": self.coefficients,
            "intercept": float(self.model.intercept_[0]), "metrics": dict(self.metrics),
            "kind": self.kind, "platt": list(self.platt), "head": list(self.head),
        }

    # -- persistence ------------------------------------------------------------------------
    def save(self, root: Path | str) -> Path:
        """Save as the next version under ``root`` and make it current.

        Args:
            root: the rankers folder (created if missing).

        Returns:
            The version folder written.
        """
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        self.version = latest_version(root) + 1
        folder = root / f"v{self.version:04d}"
        if folder.exists():
            raise FileExistsError(folder)
        with staging(root) as work:
            joblib.dump({"scaler": self.scaler, "model": self.model}, work / "model.joblib")
            (work / "meta.json").write_text(
                json.dumps(self.info(), ensure_ascii=False, indent=2), encoding="utf-8")
            publish(work, folder)
        write_text_atomic(root / CURRENT, json.dumps({"version": self.version}), sync_dir=True)
        return folder

    @classmethod
    def load(cls, root: Path | str, version: int | None = None) -> RankerModel:
        """Load the current (or the given) version.

        Args:
            root: the rankers folder.
            version: a version number (default: the current one).

        Returns:
            The model.

        Raises:
            RankerNotTrained: no such version.
        """
        root = Path(root)
        version = current_version(root) if version is None else version
        folder = root / f"v{version:04d}"
        if not version or not (folder / "meta.json").is_file():
            raise RankerNotTrained(f"排序模型尚未训练 (no ranker version {version} in {root}); "
                                   "请先运行 `talentmatch ranker train`")
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        parts = joblib.load(folder / "model.joblib")
        a, b = meta.get("platt", (1.0, 0.0))
        return cls(parts["scaler"], parts["model"], tuple(meta["feature_names"]),
                   int(meta["n_examples"]), int(meta["n_positive"]), dict(meta["metrics"]),
                   str(meta["trained_at"]), int(meta["version"]),
                   name=str(meta.get("scorer", "ranker")),
                   kind=str(meta.get("kind", "decisions")), platt=(float(a), float(b)),
                   head=tuple(float(v) for v in meta.get("head", ())))


def versions(root: Path | str) -> list[int]:
    """Saved version numbers, ascending.

    Args:
        root: the rankers folder.

    Returns:
        The numbers (empty when none).
    """
    root = Path(root)
    if not root.is_dir():
        return []
    found = (_VERSION_RE.match(p.name) for p in root.iterdir() if p.is_dir())
    return sorted(int(m.group(1)) for m in found if m)


def latest_version(root: Path | str) -> int:
    """The highest saved version (0 when none)."""
    return max(versions(root), default=0)


def current_version(root: Path | str) -> int:
    """The version ``current.json`` points at (the latest when the file is missing, else 0)."""
    path = Path(root) / CURRENT
    if path.is_file():
        return int(json.loads(path.read_text(encoding="utf-8"))["version"])
    return latest_version(root)


def train_ranker(examples: Sequence[Example], min_decisions: int = MIN_DECISIONS,
                 feature_names: Sequence[str] = SCORER_FEATURES, c: float = DEFAULT_C,
                 ) -> RankerModel | None:
    """Train a ranker from review decisions, or ``None`` when there are too few.

    Args:
        examples: ``(feature dict, label)`` pairs; label 1/True = approved, 0/False = rejected.
        min_decisions: the fewest decisions to train on.
        feature_names: the features used (column order).
        c: inverse L2 regularisation strength of the logistic regression.

    Returns:
        The trained (unsaved, version 0) model; ``None`` below ``min_decisions`` or when
        every decision has the same label.
    """
    labels = np.array([int(bool(y)) for _, y in examples], dtype=np.int64)
    if len(examples) < max(1, min_decisions) or len(set(labels.tolist())) < 2:
        return None
    x = to_matrix([f for f, _ in examples], feature_names)
    scaler = StandardScaler().fit(x)
    z = scaler.transform(x)
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=1000).fit(z, labels)
    return RankerModel(scaler, model, tuple(feature_names), len(examples), int(labels.sum()),
                       _metrics(z, labels, c, model), datetime.now(UTC).isoformat(timespec="seconds"))


def _metrics(z: np.ndarray, y: np.ndarray, c: float, model: LogisticRegression) -> dict[str, float]:
    out = {"train_accuracy": round(float(model.score(z, y)), 4)}
    folds = min(CV_FOLDS, int(np.bincount(y).min()))
    if folds >= 2:
        cv = StratifiedKFold(folds, shuffle=True, random_state=0)
        auc = cross_val_score(LogisticRegression(C=c, class_weight="balanced", max_iter=1000),
                              z, y, cv=cv, scoring="roc_auc")
        out["cv_auc"] = round(float(auc.mean()), 4)
    return out


def scorer_info(ranker: RankerModel | None, n_decisions: int,
                min_decisions: int = MIN_DECISIONS) -> dict[str, Any]:
    """Which scorer is in use and why (for ``talentmatch ranker info``).

    Args:
        ranker: the current ranker, or None.
        n_decisions: approved + rejected decisions available.
        min_decisions: the threshold for training.

    Returns:
        ``{"scorer": "ranker" | "fused", "reason_zh", "n_decisions", "min_decisions", …}``
        with the ranker's metadata when one is used.
    """
    base = {"n_decisions": n_decisions, "min_decisions": min_decisions}
    if ranker is not None and ranker.calibrated:
        return {**ranker.info(), **base,
                "reason_zh": f"使用第{ranker.version}版校准评分模型（自监督："
                             f"{int(ranker.metrics.get('pseudo_needs', 0))}条伪需求，"
                             f"审核决定{int(ranker.metrics.get('decisions', 0))}条）"}
    if ranker is not None:
        return {**ranker.info(), **base,
                "reason_zh": f"使用第{ranker.version}版排序模型（{ranker.n_examples}条审核决定训练）"}
    why = (f"审核决定 {n_decisions} 条，少于 {min_decisions} 条，使用默认融合权重"
           if n_decisions < min_decisions else "尚未训练排序模型，使用默认融合权重")
    return {"scorer": "fused", "reason_zh": why, **base}
