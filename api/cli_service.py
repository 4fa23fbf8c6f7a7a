"""CLI commands of the HTTP service (`serve`, `user add|list|disable|password|token|revoke`),
registered on the main app."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from data.records import WorkGroup

console = Console()
err = Console(stderr=True)

ROLES = ("admin", "reviewer", "enterprise", "organizer")


def _application() -> Any:
    from api.application import Application
    from api.settings import get_settings

    return Application(get_settings())


def serve(
    host: Annotated[str, typer.Option(help="listen address (loopback by default)")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    demo_accounts: Annotated[bool, typer.Option(
        "--demo-accounts", help="create/reset one demo account per role and print them")] = False,
    warm: Annotated[bool, typer.Option(
        "--warm/--no-warm", help="precompute every open need's matches in the background")] = True,
) -> None:
    """Serve the API (/api/v1, /docs) and the web pages over what the store holds."""
    import uvicorn

    from api.service.app import create_app
    from api.service.auth import SecretKeyError

    try:
        app = create_app()
    except SecretKeyError as exc:
        err.print(f"[bold red]错误[/]: {exc}")
        raise typer.Exit(2) from exc
    if demo_accounts:
        from api.service.auth import ensure_demo_accounts

        _print_accounts(ensure_demo_accounts(app.state.service.application))
    if warm:
        import threading

        threading.Thread(target=_warm, args=(app.state.service,), daemon=True).start()
    console.print(f"服务地址: http://{host}:{port}/  · API 文档: http://{host}:{port}/docs")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _warm(state: Any) -> None:
    """Background warm-up of the match cache; a failure is reported, not fatal."""
    try:
        n = state.warm()
        console.print(f"已预计算 {n} 项需求的匹配结果")
    except Exception as exc:  # the service keeps serving; requests compute on demand
        err.print(f"[yellow]预计算匹配结果失败[/]: {exc}")


def _print_accounts(accounts: list[dict[str, Any]]) -> None:
    table = Table("用户名", "密码", "角色", "工作小组 / 企业", title="演示账号")
    for a in accounts:
        table.add_row(a["username"], a["password"], a["role"],
                      a.get("work_group") or a.get("enterprise_id") or "")
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
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Create an account; prints its API token once (only its hash is stored)."""
    from api.service.auth import create_user
    from data.store.errors import DuplicateIdError

    if role not in ROLES:
        err.print(f"[bold red]错误[/]: 未知角色「{role}」；可选：{'、'.join(ROLES)}")
        raise typer.Exit(2)
    application = _application()
    try:
        user, token = create_user(application.store, username, role, password=password,
                                  work_group=work_group.value if work_group else None,
                                  enterprise_id=enterprise_id,
                                  token_days=application.settings.token_days)
    except (ValueError, DuplicateIdError) as exc:
        err.print(f"[bold red]错误[/]: {exc}")
        raise typer.Exit(2) from exc
    if as_json:
        sys.stdout.write(json.dumps({**user.public(), "token": token}, ensure_ascii=False) + "\n")
        return
    console.print(f"已创建账号 {user.username}（{user.role}）")
    console.print(f"API 令牌（只显示这一次，请妥善保存）：{token}")


@user_app.command("list")
def user_list(as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
              ) -> None:
    """List the accounts (no secrets)."""
    users = _application().store.list_users()
    if as_json:
        sys.stdout.write(json.dumps([u.public() for u in users], ensure_ascii=False) + "\n")
        return
    table = Table("用户名", "角色", "工作小组", "企业", "状态")
    for u in users:
        table.add_row(u.username, u.role, u.work_group or "", u.enterprise_id or "",
                      "已停用" if u.disabled else "启用")
    console.print(table)


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Disable an account (its sessions end; its logins and API tokens stop working)."""
    from data.store.errors import NotFoundError

    try:
        _application().store.set_user_disabled(username, True)
    except NotFoundError as exc:
        err.print(f"[bold red]错误[/]: 找不到账号「{username}」")
        raise typer.Exit(2) from exc
    console.print(f"账号 {username} 已停用")


def _user(application: Any, username: str) -> Any:
    found = application.store.get_user(username)
    if found is None:
        err.print(f"[bold red]错误[/]: 找不到账号「{username}」")
        raise typer.Exit(2)
    return found


@user_app.command("password")
def user_password(
    username: Annotated[str, typer.Argument(help="login name")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True, help="the new password")],
) -> None:
    """Set a new web login password (the account's sessions end)."""
    from api.service.auth import hash_password

    if len(password) < 8:
        err.print("[bold red]错误[/]: 密码至少 8 个字符")
        raise typer.Exit(2)
    application = _application()
    _user(application, username)
    application.store.set_user_password(username, hash_password(password))
    console.print(f"账号 {username} 的密码已更新，已登录的会话全部失效")


@user_app.command("token")
def user_token(
    username: Annotated[str, typer.Argument(help="login name")],
    days: Annotated[int | None, typer.Option(min=1, max=3650, help="lifetime in days "
                                             "(default: TALENTMATCH_TOKEN_DAYS, 90)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Issue a new API token (printed once); older tokens keep working until revoked."""
    from api.service.auth import issue_token

    application = _application()
    user = _user(application, username)
    token, expires = issue_token(application.store, user.id,
                                 days or application.settings.token_days)
    if as_json:
        sys.stdout.write(json.dumps({"username": username, "token": token,
                                     "expires_at": expires}, ensure_ascii=False) + "\n")
        return
    console.print(f"API 令牌（只显示这一次，{expires} 到期）：{token}")


@user_app.command("revoke")
def user_revoke(username: Annotated[str, typer.Argument(help="login name")]) -> None:
    """Revoke every API token of an account and end its sessions."""
    application = _application()
    user = _user(application, username)
    n = application.store.revoke_tokens(user.id)
    application.store.end_sessions(user.id)
    console.print(f"已吊销账号 {username} 的 {n} 个 API 令牌，并结束其全部会话")


def register(app: typer.Typer) -> None:
    """Add the service commands to ``app``."""
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
