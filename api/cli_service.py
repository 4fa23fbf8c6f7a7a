"""CLI commands of the HTTP service (`serve`, `worker`, `user add|list|disable|password|token|
revoke`), registered on the main app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from api.cli_common import application, call, console, err, fail, print_json
from api.services import accounts
from api.services.types import JSONObject
from api.settings import get_settings
from data.records import WorkGroup

if TYPE_CHECKING:
    from api.service.state import ServiceState


def serve(
    host: Annotated[str, typer.Option(help="listen address (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    demo_accounts: Annotated[bool, typer.Option(
        "--demo-accounts", help="create/reset one demo account per role and print them")] = False,
    warm: Annotated[bool, typer.Option(
        "--warm/--no-warm", help="precompute every open need's matches in the background")] = True,
    workers: Annotated[int, typer.Option(
        min=1, max=64, help="API worker processes (more than 1 needs TALENTMATCH_REDIS_URL: "
        "sessions' revocations, throttling and caches are shared there)")] = 1,
) -> None:
    """Serve the API (/api/v1, /docs) and the web pages over what the store holds."""
    import uvicorn

    if workers > 1:
        _serve_workers(host, port, workers, demo_accounts=demo_accounts, warm=warm)
        return
    from api.service.app import create_app
    from api.service.auth import SecretKeyError

    try:
        app = create_app()
    except (SecretKeyError, RuntimeError) as exc:
        fail(str(exc))
    if demo_accounts:
        _print_accounts(accounts.demo_accounts(app.state.service.application))
    if warm:
        import threading

        threading.Thread(target=_warm, args=(app.state.service,), daemon=True).start()
    console.print(f"服务地址: http://{host}:{port}/  · API 文档: http://{host}:{port}/docs")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _serve_workers(host: str, port: int, workers: int, *, demo_accounts: bool,
                   warm: bool) -> None:
    """``serve --workers N``: uvicorn's worker processes, each building the app from the
    environment (:func:`api.service.app.app_from_environment`) on the shared store and Redis.
    """
    import os

    import uvicorn

    from api.service.redis_state import connect
    from api.service.secret import SecretKeyError, session_key

    settings = get_settings()
    if not settings.redis_url:
        fail("--workers 大于 1 时需要设置 TALENTMATCH_REDIS_URL（各进程共享会话吊销、登录限流和缓存）")
    try:
        session_key(settings)  # made once here, so every worker reads the same key file
        connect(settings.redis_url).close()
    except (SecretKeyError, RuntimeError) as exc:
        fail(str(exc))
    if settings.database_url.startswith("sqlite"):
        err.print("[yellow]多个 API 进程共用 SQLite：写入会相互等待，正式部署请用 PostgreSQL[/]")
    if demo_accounts:
        app = application()
        _print_accounts(accounts.demo_accounts(app))
        app.store.close()
    os.environ["TALENTMATCH_SERVE_WARM"] = "1" if warm else "0"
    # glibc: 2 heap arenas per worker instead of one per thread that allocates (the request
    # threads' arenas keep freed memory; about 100 MB less resident per worker at 114k)
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    console.print(f"服务地址: http://{host}:{port}/  · API 文档: http://{host}:{port}/docs"
                  f"  · {workers} 个 API 进程")
    uvicorn.run("api.service.app:app_from_environment", factory=True, host=host, port=port,
                workers=workers, log_level="warning")


def worker(
    burst: Annotated[bool, typer.Option(
        "--burst", help="stop once the queue is empty (default: run until stopped)")] = False,
    name: Annotated[str | None, typer.Option(help="worker name (default: a random one)")]
    = None,
) -> None:
    """Run background jobs (pairing runs, index update, demand map, shortlists, imports)
    from the Redis queue; needs TALENTMATCH_REDIS_URL. Start as many as the machine allows."""
    from api.jobs.queue import work

    settings = get_settings()
    if not settings.redis_url:
        fail("talentmatch worker 需要 TALENTMATCH_REDIS_URL（任务队列在 Redis 中）；"
             "未设置时任务在 serve 进程内运行，无需 worker")
    try:
        work(settings, burst=burst, name=name)
    except RuntimeError as exc:
        fail(str(exc))


def _forget_shared_users() -> None:
    """Drop the account lookups the API workers cached in Redis (a CLI change of an account
    is then seen at once; without Redis they expire within seconds)."""
    from api.service.shared_state import USERS_CACHE, UserCodec, open_shared
    from api.service.state import USER_CACHE_SIZE, USER_TTL_S

    settings = get_settings()
    if settings.redis_url:
        shared = open_shared(settings)
        try:
            shared.cache(USERS_CACHE, USER_CACHE_SIZE, USER_TTL_S, UserCodec()).clear()
        finally:
            shared.close()


def _warm(state: ServiceState) -> None:
    """Background warm-up of the match cache; a failure is reported, not fatal."""
    try:
        n = state.warm()
        console.print(f"已预计算 {n} 项需求的匹配结果")
    except Exception as exc:  # the service keeps serving; requests compute on demand
        err.print(f"[yellow]预计算匹配结果失败[/]: {exc}")


def _print_accounts(shown: list[JSONObject]) -> None:
    table = Table("用户名", "密码", "角色", "工作小组 / 企业", title="演示账号")
    for a in shown:
        table.add_row(str(a["username"]), str(a["password"]), str(a["role"]),
                      str(a.get("work_group") or a.get("enterprise_id") or ""))
    console.print(table)


user_app = typer.Typer(help="Service accounts: add, list, disable, password, token, revoke.",
                       no_args_is_help=True)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="login name")],
    role: Annotated[str, typer.Option(help="admin / reviewer / enterprise / organizer")],
    work_group: Annotated[WorkGroup | None, typer.Option(help="reviewer's work group")] = None,
    enterprise_id: Annotated[str | None, typer.Option(help="enterprise account's enterprise")]
    = None,
    password: Annotated[str | None, typer.Option(help="web login password (none: API only)")]
    = None,
    city: Annotated[str | None, typer.Option(
        help="programme city the account is limited to (平顶山, 南阳, or a slug/alias of the "
             "taxonomy's cities); omitted: unscoped, sees every city")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Create an account; prints its API token once (only its hash is stored)."""
    user, token = call(lambda: accounts.add(
        application(), username, role, password=password, enterprise_id=enterprise_id,
        work_group=work_group.value if work_group else None, city=city))
    if as_json:
        print_json({**user.public(), "token": token})
        return
    scope = f"，城市 {user.city}" if user.city else "，不限城市"
    console.print(f"已创建账号 {user.username}（{user.role}{scope}）")
    console.print(f"API 令牌（只显示这一次，请妥善保存）：{token}")


@user_app.command("list")
def user_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
              ) -> None:
    """List the accounts (no secrets)."""
    users = accounts.listing(application())
    if as_json:
        print_json([u.public() for u in users])
        return
    table = Table("用户名", "角色", "工作小组", "企业", "城市", "状态")
    for u in users:
        table.add_row(u.username, u.role, u.work_group or "", u.enterprise_id or "",
                      u.city or "全部", "已停用" if u.disabled else "启用")
    console.print(table)


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Disable an account (its sessions end; its logins and API tokens stop working)."""
    call(lambda: accounts.disable(application(), username))
    _forget_shared_users()
    console.print(f"账号 {username} 已停用")


@user_app.command("city")
def user_city(
    username: Annotated[str, typer.Argument(help="login name")],
    city: Annotated[str | None, typer.Option(
        help="the programme city the account is limited to from now on (平顶山, 南阳, or a "
             "slug/alias of the taxonomy's cities)")] = None,
    unscoped: Annotated[bool, typer.Option(
        "--unscoped", help="make the account unscoped (it sees every city)")] = False,
) -> None:
    """Move an account to another city, or make it unscoped (its sessions end)."""
    if (city is None) == (not unscoped):
        fail("请给出 --city 或 --unscoped 之一 (give exactly one of --city and --unscoped)")
    user = call(lambda: accounts.set_city(application(), username, None if unscoped else city))
    _forget_shared_users()
    console.print(f"账号 {username} " + (f"现属城市 {user.city}" if user.city else "现不限城市")
                  + "，已登录的会话全部失效")


@user_app.command("password")
def user_password(
    username: Annotated[str, typer.Argument(help="login name")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True, help="the new password")],
) -> None:
    """Set a new web login password (the account's sessions end)."""
    call(lambda: accounts.set_password(application(), username, password))
    _forget_shared_users()
    console.print(f"账号 {username} 的密码已更新，已登录的会话全部失效")


@user_app.command("token")
def user_token(
    username: Annotated[str, typer.Argument(help="login name")],
    days: Annotated[int | None, typer.Option(min=1, max=3650, help="lifetime in days "
                                             "(default: TALENTMATCH_TOKEN_DAYS, 90)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Issue a new API token (printed once); older tokens keep working until revoked."""
    token, expires = call(lambda: accounts.new_token(application(), username, days))
    if as_json:
        print_json({"username": username, "token": token, "expires_at": expires})
        return
    console.print(f"API 令牌（只显示这一次，{expires} 到期）：{token}")


@user_app.command("revoke")
def user_revoke(username: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Revoke every API token of an account and end its sessions."""
    n = call(lambda: accounts.revoke(application(), username))
    _forget_shared_users()
    console.print(f"已吊销账号 {username} 的 {n} 个 API 令牌，并结束其全部会话")


def register(app: typer.Typer) -> None:
    """Add the service commands to ``app``."""
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.add_typer(user_app, name="user")
