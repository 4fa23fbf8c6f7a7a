"""``create_app(settings)``: the FastAPI service — API under ``/api/v1`` and the web pages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI

from api.application import Application
from api.service import contract, errors, offline_docs
from api.service.limits import BodyLimit
from api.service.routers import events, jobs, matching, records, reviews, system
from api.service.schemas import ErrorOut, Health
from api.service.secret import session_key
from api.service.state import ServiceState
from api.settings import Settings, get_settings

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"


def api_router() -> APIRouter:
    """Every API route under :data:`API_PREFIX`."""
    router = APIRouter(prefix=API_PREFIX, responses={
        422: {"model": ErrorOut, "description": "参数或数据无效（逐字段说明）"}})
    router.include_router(system.router)
    router.include_router(matching.router)
    for r in records.routers():
        router.include_router(r)
    router.include_router(reviews.router)
    router.include_router(events.router)
    router.include_router(jobs.router)
    return router


def _include_pages(app: FastAPI) -> None:
    from fastapi.staticfiles import StaticFiles

    from api.web import admin_pages, error_pages, pages, review_pages

    app.mount("/static", StaticFiles(directory=Path(pages.__file__).parent / "static"),
              name="static")
    app.include_router(pages.router)
    from api.web import enterprise_pages, event_pages

    app.include_router(enterprise_pages.router)
    app.include_router(event_pages.router)
    app.include_router(review_pages.router)
    app.include_router(admin_pages.router)
    errors.html_pages(error_pages.render_error)
    pages.templates.env.globals["has_demand_map"] = False
    try:
        from api.web.demand_map import router as demand_map_router
    except ImportError as exc:
        logger.info("demand map page not available: %s", exc)
    else:
        app.include_router(demand_map_router)
        pages.templates.env.globals["has_demand_map"] = True
        from api.web import demand_map

        other = getattr(demand_map, "templates", None)
        if other is not None:  # its pages extend base.html, which shows the link
            other.env.globals["has_demand_map"] = True


def app_from_environment() -> FastAPI:
    """The app of one ``serve --workers N`` worker process (uvicorn's factory): settings from
    the environment; with ``TALENTMATCH_SERVE_WARM=1``, one worker (the first to claim the
    index version in Redis) precomputes the open needs' matches into the shared cache."""
    import os
    import threading

    app = create_app()
    if os.environ.get("TALENTMATCH_SERVE_WARM") == "1":
        state: ServiceState = app.state.service

        def warm() -> None:
            try:
                state.warm()
            except Exception:  # requests compute on demand
                logger.exception("warming the match cache failed")

        threading.Thread(target=warm, daemon=True, name="tm-warm").start()
    return app


def create_app(settings: Settings | None = None,
               application: Application | None = None) -> FastAPI:
    """The service over ``settings`` (default: from the environment).

    Args:
        settings: the settings; a public or short session key is refused, and production
            requires a configured one (see :mod:`api.service.secret`).
        application: an application to serve (default: one over ``settings``).

    Returns:
        The FastAPI app (``app.state.service`` holds the :class:`ServiceState`).

    Raises:
        SecretKeyError: the session key is unusable.
    """
    settings = settings or (application.settings if application else get_settings())
    session_key(settings)  # refuse a bad key before opening anything
    application = application or Application(settings)
    state = ServiceState(application)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        _ = state.jobs  # start the runner now: jobs a previous process left are marked failed
        try:
            yield
        finally:
            state.close()

    app = FastAPI(title="talentmatch 人才与需求匹配服务", version="1",
                  description="归根工程人才—企业需求匹配：API 需 Bearer 令牌或登录会话。",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json",
                  lifespan=lifespan)
    offline_docs.install(app)
    app.state.service = state
    errors.install(app)
    contract.install(app)
    app.add_middleware(BodyLimit)

    @app.get("/healthz", tags=["系统"], summary="健康检查（无需登录）", response_model=Health)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(api_router())
    _include_pages(app)
    return app
