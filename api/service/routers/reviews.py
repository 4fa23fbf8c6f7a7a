"""The review queue, decisions (optimistic concurrency) and the audit trail (thin over
:mod:`api.services.review`)."""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from api.service.authz import require
from api.service.deps import StateDep, User
from api.service.schemas import (
    MAX_OFFSET,
    AuditList,
    DecisionIn,
    SuggestionDetail,
    SuggestionOut,
    SuggestionPage,
)
from api.services import review
from api.services.types import JSONObject
from data.records import WorkGroup

router = APIRouter(tags=["审核"])
Reader = Annotated[User, Depends(require("suggestions.read"))]


@router.get("/suggestions", summary="审核队列", response_model=SuggestionPage,
            response_model_exclude_unset=True)
def list_suggestions(user: Reader, state: StateDep, group: WorkGroup | None = None,
                     status: str | None = None, chain: str | None = None,
                     county: str | None = None, limit: int = Query(50, ge=1, le=500),
                     offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> JSONObject:
    """Suggestions filtered by work group, status, chain and county (paged)."""
    return review.page(state.application, user, group=group.value if group else None,
                       status=status, chain=chain, county=county, limit=limit, offset=offset)


@router.get("/suggestions/{suggestion_id}", summary="推荐详情",
            response_model=SuggestionDetail, response_model_exclude_unset=True)
def get_suggestion(suggestion_id: str, user: Reader, state: StateDep) -> JSONObject:
    """One suggestion with its decisions."""
    return review.detail(state.application, user, suggestion_id)


@router.post("/suggestions/{suggestion_id}/decision", summary="审核决定",
             response_model=SuggestionOut, response_model_exclude_unset=True)
def post_decision(suggestion_id: str, body: DecisionIn,
                  user: Annotated[User, Depends(require("suggestions.decide"))],
                  state: StateDep) -> JSONObject:
    """Approve, reject or defer with a reason; a stale ``version`` gets 409."""
    return review.decide(state.application, user, suggestion_id, body.status, body.reason,
                         body.version)


@router.get("/audit", summary="审计记录", response_model=AuditList,
            response_model_exclude_unset=True)
def get_audit(user: Annotated[User, Depends(require("audit.read"))], state: StateDep,
              suggestion_id: str | None = None, limit: int = Query(200, ge=1, le=1000),
              offset: int = Query(0, ge=0, le=MAX_OFFSET)) -> JSONObject:
    """Decisions newest first: who, when, from, to, why."""
    return {"items": list(review.audit(state.application, user, suggestion_id=suggestion_id,
                                       limit=limit, offset=offset))}
