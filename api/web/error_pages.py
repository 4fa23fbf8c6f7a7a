"""Chinese HTML error pages for the web pages (issue #13 §15): 403, 404, 405 and 422 (and
the other 4xx/5xx a page can meet) show what happened and where to go, inside the site's
layout. The API under ``/api/`` keeps its JSON errors (:mod:`api.service.errors`)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse

from api.service.deps import optional_user
from api.web.pages import HOME, render

TITLES = {400: "请求无法处理", 403: "无权访问", 404: "页面不存在", 405: "不支持的操作",
          409: "操作冲突", 413: "上传的文件过大", 422: "填写的内容有误", 429: "操作过于频繁",
          500: "服务器内部错误", 503: "服务暂不可用"}
HINTS = {403: "当前账号没有访问此页面的权限。如需开通，请联系管理员。",
         404: "您访问的地址不存在，或记录已被删除。请检查链接，或从导航重新进入。",
         405: "此地址不支持该操作（例如直接打开了只能提交表单的地址）。请返回上一页重新操作。",
         422: "提交或链接中的参数不符合要求，请按提示修改后重试。"}


def render_error(request: Request, status: int, message: str) -> HTMLResponse:
    """The error page for ``status`` with ``message`` (Chinese), in the site layout."""
    try:
        user = optional_user(request)
    except Exception:  # a bad token or stale session: show the page anonymously
        user = None
    home = HOME.get(user.role, "/") if user else "/login"
    response = render(request, "error.html", user, status=status,
                      title=TITLES.get(status, "出错了"), message=message,
                      hint=HINTS.get(status, ""), home=home)
    response.status_code = status
    return response
