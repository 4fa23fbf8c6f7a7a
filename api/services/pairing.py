"""Pairing runs (资智结对): start one as a background job (the service), run one in the
foreground (the CLI), and show a stored run as the caller may see it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from api.services import cities, jobs
from api.services.errors import Invalid
from api.services.types import JSONObject, Progress, User
from api.typed import many
from data.records import Need, Talent

if TYPE_CHECKING:
    from api.service.state import ServiceState
    from api.workflows import Workflows

RUN_KEYS = ("run_id", "solver", "objective", "partial", "messages", "pairs", "alternates")
"""The fields of a run the CLI's ``pair run --json`` prints."""


def check_solver(solver: str) -> None:
    """Fail before any work when ``solver`` is unknown (422, naming the known solvers)."""
    from matching.solvers import make_solver

    try:
        make_solver(solver)
    except ValueError as exc:
        raise Invalid(str(exc)) from exc


def start(state: ServiceState, user: User, *, solver: str = "flow", max_load: int = 3,
          demand: int = 1, min_score: float = 0.0, k: int = 20) -> JSONObject:
    """Queue a pairing run over every open need (its suggestions go to the review queue);
    a city-scoped admin's run pairs its city's needs and talents only.

    Returns:
        The job's view.

    Raises:
        Invalid: an unknown solver (422).
        ActiveJobExists: a pairing run is queued or running (409).
    """
    check_solver(solver)
    params: JSONObject = {"solver": solver, "max_load": max_load, "demand": demand,
                          "min_score": min_score, "k": k, "started_by": user.username}
    if cities.scope(user) is not None:
        params["city"] = cities.scope(user)
    return jobs.start(state, user, "pairing", params)


def run(workflows: Workflows, *, solver: str = "flow", max_load: int = 3, demand: int = 1,
        min_score: float = 0.0, k: int = 20, started_by: str = "cli",
        progress: Progress = iter) -> JSONObject:
    """A pairing run in the foreground (:meth:`api.workflows.Workflows.pair_run`)."""
    check_solver(solver)
    result: JSONObject = workflows.pair_run(solver=solver, max_load=max_load, demand=demand,
                                            min_score=min_score, k=k, started_by=started_by,
                                            progress=progress)
    return result


def show(workflows: Workflows, run_id: str) -> JSONObject:
    """A stored run with its suggestions (404 when unknown)."""
    shown: JSONObject = workflows.pair_show(run_id)
    return shown


def show_for(state: ServiceState, user: User, run_id: str) -> JSONObject:
    """A stored run as ``user`` may see it: a reviewer sees its own work group's pairs,
    alternates and messages; a city-scoped caller its city's (pairs of its city's needs
    and talents)."""
    shown = show(state.workflows, run_id)
    city = cities.scope(user)
    if user.role != "reviewer" and city is None:
        return shown
    alternates: dict[str, list[str]] = shown.get("alternates") or {}  # type: ignore[assignment]
    pairs: list[dict[str, Any]] = shown["pairs"]  # type: ignore[assignment]
    messages: list[str] = shown.get("messages", [])  # type: ignore[assignment]
    needs = _needs(state, list({*alternates, *(str(p["need_id"]) for p in pairs)}))
    group = user.work_group if user.role == "reviewer" else None

    def keep(need_id: str) -> bool:
        need = needs.get(need_id)
        return need is not None and cities.sees(user, need) and (
            group is None or str(getattr(need.work_group, "value", need.work_group)) == group)

    talents = many(Talent, state.application.store.get_many(
        "talents", list({str(p["talent_id"]) for p in pairs} |
                        {t for ids in alternates.values() for t in ids})))
    others = {n for n in {*alternates, *(str(p["need_id"]) for p in pairs)} if not keep(n)}
    shown["pairs"] = [p for p in pairs if keep(str(p["need_id"]))
                      and cities.sees(user, talents.get(str(p["talent_id"])))]
    shown["alternates"] = {n: [t for t in ids if cities.sees(user, talents.get(t))]
                           for n, ids in alternates.items() if keep(n)}
    shown["messages"] = [m for m in messages if not any(f"「{n}」" in m for n in others)]
    return shown


def _needs(state: ServiceState, need_ids: list[str]) -> dict[str, Need]:
    store = state.application.store
    needs: dict[str, Need] = {}
    for entity in ("needs", "challenges"):
        needs.update(many(Need, store.get_many(entity, need_ids)))
    return needs


def need_groups(state: ServiceState, need_ids: list[str]) -> dict[str, str]:
    """The work group of each need or challenge id (unknown ids left out).

    Returns:
        Need id → work group value (``tech_return`` …).
    """
    store = state.application.store
    needs: dict[str, Need] = {}
    for entity in ("needs", "challenges"):
        needs.update(many(Need, store.get_many(entity, need_ids)))
    return {n: str(getattr(r.work_group, "value", r.work_group)) for n, r in needs.items()}


def recent_runs(state: ServiceState, limit: int = 20) -> list[JSONObject]:
    """The newest pairing runs: id, who, when (also in Beijing time), solver, parameters,
    objective, duration."""
    from api.services.review_export import beijing

    out: list[JSONObject] = []
    for run in state.application.store.runs("pairing")[:limit]:
        created = run.get("created_at")
        out.append({"id": run["id"], "started_by": run.get("started_by"),
                    "created_at": created.isoformat() if created else None,
                    "created_bj": beijing(created) if created else "",
                    "solver": run.get("solver"), "objective": run.get("objective"),
                    "duration_s": run.get("duration_s"), "partial": bool(run.get("partial")),
                    "params": dict(run.get("params") or {})})
    return out


def run_ids(state: ServiceState, limit: int = 20) -> list[str]:
    """The ids of the newest pairing runs (the queue's run filter)."""
    return [str(r["id"]) for r in state.application.store.runs("pairing")[:limit]]
