"""Matches, 揭榜挂帅 leads and pairing runs (thin over :mod:`api.services.matching` and
:mod:`api.services.pairing`)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from api.service.authz import require
from api.service.deps import StateDep, User
from api.service.http import accepted
from api.service.schemas import (
    JobOut,
    LeadsOut,
    NeedMatches,
    PairingRunIn,
    PairingRunOut,
    TalentMatches,
)
from api.services import matching, pairing
from api.services.types import JSONObject

router = APIRouter(tags=["匹配"])


@router.get("/needs/{need_id}/matches", summary="需求的匹配人才（带解释）",
            response_model=NeedMatches)
def match_need(need_id: str, user: Annotated[User, Depends(require("matches.need"))],
               state: StateDep, k: int = Query(20, ge=1, le=100)) -> Response:
    """Talents for a need, ranked and explained (enterprises: masked)."""
    return Response(matching.need_matches_json(state, user, need_id, k),
                    media_type="application/json")


@router.get("/talents/{talent_id}/matches", summary="人才的匹配需求与归根项目",
            response_model=TalentMatches, response_model_exclude_unset=True)
def match_talent(talent_id: str, user: Annotated[User, Depends(require("matches.talent"))],
                 state: StateDep, k: int = Query(20, ge=1, le=100)) -> JSONObject:
    """Needs and 归根 projects for a talent."""
    return matching.talent_matches_for(state, user, talent_id, k)


@router.get("/challenges/{challenge_id}/leads", summary="揭榜挂帅：揭榜人与团队",
            response_model=LeadsOut, response_model_exclude_unset=True)
def leads(challenge_id: str, user: Annotated[User, Depends(require("leads"))],
          state: StateDep, n: int = Query(10, ge=1, le=50)) -> JSONObject:
    """Eligible leads and a proposed team for a challenge."""
    return matching.leads_for(state, user, challenge_id, n)


@router.post("/pairing-runs", status_code=202, response_model=JobOut,
             summary="发起资智结对运行（后台任务，返回 202 与任务编号）")
def pairing_run(body: PairingRunIn, response: Response,
                user: Annotated[User, Depends(require("runs.create"))],
                state: StateDep) -> JSONObject:
    """Queue a pairing run over every open need; its suggestions go to the review queue.

    Answers 202 at once with the job (``Location: /api/v1/jobs/{id}``); when the job has
    succeeded its ``links.result`` is the stored run. A second run while one is queued or
    running answers 409 with that job's id.
    """
    return accepted(response, pairing.start(
        state, user, solver=body.solver, max_load=body.max_load, demand=body.demand,
        min_score=body.min_score, k=body.k))


@router.get("/pairing-runs/{run_id}", summary="查看结对运行", response_model=PairingRunOut,
            response_model_exclude_unset=True)
def pairing_show(run_id: str, user: Annotated[User, Depends(require("runs.read"))],
                 state: StateDep) -> JSONObject:
    """A stored run with its suggestions (a reviewer sees its own work group's pairs,
    alternates and messages)."""
    return pairing.show_for(state, user, run_id)
