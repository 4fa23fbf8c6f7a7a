"""Domain exceptions of the store. They say what went wrong in domain terms; the API maps
them to HTTP in one place."""

from __future__ import annotations


class StoreError(Exception):
    """Base of every error raised by :mod:`data.store`."""


class NotFoundError(StoreError, LookupError):
    """A record, suggestion or other row that the call needs does not exist."""

    def __init__(self, kind: str, id: str) -> None:
        super().__init__(f"{kind} {id!r} 不存在 (not found)")
        self.kind = kind
        self.id = id


class DuplicateIdError(StoreError, ValueError):
    """The same id appears twice where ids must be unique."""

    def __init__(self, kind: str, ids: list[str]) -> None:
        shown = ", ".join(repr(i) for i in ids[:10])
        more = f" … (+{len(ids) - 10})" if len(ids) > 10 else ""
        super().__init__(f"{kind}: 重复的编号 id (duplicate ids): {shown}{more}")
        self.kind = kind
        self.ids = ids


class ConstraintError(StoreError):
    """The database refused a write (a constraint failed); nothing of the call was written."""


class VersionConflict(StoreError):
    """Optimistic concurrency: the row changed since the caller read it.

    Attributes:
        id: the suggestion id.
        expected: the version the caller expected.
        actual: the version now stored.
    """

    def __init__(self, id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"推荐 {id!r} 已被他人修改 (version conflict): 期望版本 {expected}, 当前版本 {actual}; "
            "请刷新后重试"
        )
        self.id = id
        self.expected = expected
        self.actual = actual


class ActiveJobExists(StoreError):
    """A job of this kind is already queued or running (one job of a kind at a time).

    Attributes:
        kind: the job kind.
        job_id: the id of the active job.
    """

    def __init__(self, kind: str, job_id: str) -> None:
        super().__init__(
            f"已有同类后台任务（{kind}）在排队或运行：任务编号 {job_id}；"
            f"请用 GET /api/v1/jobs/{job_id} 查看进度，完成后再提交"
        )
        self.kind = kind
        self.job_id = job_id
