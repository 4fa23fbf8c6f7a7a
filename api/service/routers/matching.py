"""Matches, 揭榜挂帅 leads and pairing runs (thin over :class:`api.workflows.Workflows`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from api.service import masking
from api.service.authz import require
from api.service.deps import get_state
from api.service.routers import jobs
from api.service.schemas import JobOut, PairingRunIn
from data.store.users import User

router = APIRouter(tags=["匹配"])


def need_matches(state: Any, user: User, need_id: str, k: int) -> dict[str, Any]:
    """Matches of a need as ``user`` may see them (cached; masked for enterprises).

    Args:
        state: the service state.
        user: the caller.
        need_id: a need or challenge id.
        k: how many matches.

    Returns:
        The match result (``Workflows.match_need``), masked for enterprise accounts.
    """
    need = state.workflows.need(need_id)
    masking.check_need_owner(user, need)
    result = state.match_need(need, k)
    if not masking.is_enterprise(user):
        return result
    store = state.application.store
    approved = masking.approved_talents(store, user)
    talents = store.get_many("talents", [m["talent_id"] for m in result["matches"]])
    return masking.mask_matches(result, approved, talents)


@router.get("/needs/{need_id}/matches", summary="需求的匹配人才（带解释）")
def match_need(need_id: str, k: int = Query(20, ge=1, le=100),
               user: User = Depends(require("matches.need")),
               state: Any = Depends(get_state)) -> Response:
    """Talents for a need, ranked and explained (enterprises: masked)."""
    result = need_matches(state, user, need_id, k)
    if masking.is_enterprise(user):
        return JSONResponse(result)
    return Response(state.encoded(result), media_type="application/json")


@router.get("/talents/{talent_id}/matches", summary="人才的匹配需求与归根项目")
def match_talent(talent_id: str, k: int = Query(20, ge=1, le=100),
                 user: User = Depends(require("matches.talent")),
                 state: Any = Depends(get_state)) -> dict[str, Any]:
    """Needs and 归根 projects for a talent."""
    return state.workflows.match_talent(talent_id, k=k)


@router.get("/challenges/{challenge_id}/leads", summary="揭榜挂帅：揭榜人与团队")
def leads(challenge_id: str, n: int = Query(10, ge=1, le=50),
          user: User = Depends(require("leads")),
          state: Any = Depends(get_state)) -> dict[str, Any]:
    """Eligible leads and a proposed team for a challenge."""
    return state.workflows.leads(challenge_id, n_leads=n)


@router.post("/pairing-runs", status_code=202, response_model=JobOut,
             summary="发起资智结对运行（后台任务，返回 202 与任务编号）")
def pairing_run(body: PairingRunIn, response: Response,
                user: User = Depends(require("runs.create")),
                state: Any = Depends(get_state)) -> dict[str, Any]:
    """Queue a pairing run over every open need; its suggestions go to the review queue.

    Answers 202 at once with the job (``Location: /api/v1/jobs/{id}``); when the job has
    succeeded its ``links.result`` is the stored run. A second run while one is queued or
    running answers 409 with that job's id.
    """
    from matching.solvers import make_solver

    make_solver(body.solver)  # an unknown solver fails here, not in the job
    params = {**body.model_dump(), "started_by": user.username}
    return jobs.accepted(response, jobs.submit(state, user, "pairing", params))


@router.get("/pairing-runs/{run_id}", summary="查看结对运行")
def pairing_show(run_id: str, user: User = Depends(require("runs.read")),
                 state: Any = Depends(get_state)) -> dict[str, Any]:
    """A stored run with its suggestions (a reviewer sees its own work group's pairs,
    alternates and messages)."""
    shown: dict[str, Any] = state.workflows.pair_show(run_id)
    if user.role == "reviewer":
        alternates = shown.get("alternates") or {}
        groups = need_groups(state, list(alternates))
        others = {n for n, g in groups.items() if g != user.work_group}
        shown["pairs"] = [p for p in shown["pairs"] if p["work_group"] == user.work_group]
        shown["alternates"] = {n: ids for n, ids in alternates.items()
                               if groups.get(n) == user.work_group}
        shown["messages"] = [m for m in shown.get("messages", [])
                             if not any(f"「{n}」" in m for n in others)]
    return shown


def need_groups(state: Any, need_ids: list[str]) -> dict[str, str]:
    """The work group of each need or challenge id (unknown ids left out).

    Args:
        state: the service state.
        need_ids: need and challenge ids.

    Returns:
        Need id → work group value (``tech_return`` …).
    """
    store = state.application.store
    needs: dict[str, Any] = {}
    for entity in ("needs", "challenges"):
        needs.update(store.get_many(entity, need_ids))
    return {n: str(getattr(r.work_group, "value", r.work_group)) for n, r in needs.items()}
