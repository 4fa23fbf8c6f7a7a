"""The session signing key: configured, or generated once and kept in the data folder.

* ``TALENTMATCH_SECRET_KEY`` set: used as is; it must be at least :data:`MIN_LENGTH`
  characters and never a published default (:data:`PUBLIC_KEYS`).
* Unset: a random key is generated at first start and written to ``<data folder>/secret_key``
  with mode 0600 (created exclusively, so two processes starting together agree); later
  starts read it back. A key file readable by group or others is refused.
* Production (``TALENTMATCH_ENVIRONMENT=production``) requires a configured key, so that
  every instance signs alike; its cookies are always ``Secure``.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path
from typing import Any

KEY_FILE = "secret_key"
MIN_LENGTH = 32
PUBLIC_KEYS = frozenset({"dev-secret-change-me", "change-me", "secret", "changeme"})
"""Keys that were published (the old development default among them): always refused."""

GENERATE_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(48))'"


class SecretKeyError(RuntimeError):
    """The configured session key is unusable (public, short, or missing in production)."""


def _check_configured(key: str) -> str:
    if key.strip() in PUBLIC_KEYS:
        raise SecretKeyError(
            "TALENTMATCH_SECRET_KEY 是公开的默认密钥，任何人都能伪造会话：请删除该设置（将自动生成"
            f"随机密钥）或设置为至少 {MIN_LENGTH} 个字符的随机字符串，例如 {GENERATE_HINT}")
    if len(key) < MIN_LENGTH:
        raise SecretKeyError(
            f"TALENTMATCH_SECRET_KEY 太短（{len(key)} 个字符）：至少需要 {MIN_LENGTH} 个字符，"
            f"例如 {GENERATE_HINT}")
    return key


def _read_key_file(path: Path) -> str:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise SecretKeyError(
            f"会话密钥文件 {path} 的权限为 {mode:o}，其他用户可读：请运行 chmod 600 {path}")
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_LENGTH:
        raise SecretKeyError(f"会话密钥文件 {path} 内容无效（太短）：删除它后重启将重新生成")
    return key


def _generate_key_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process generated it first: use theirs
        return _read_key_file(path)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(key + "\n")
    os.chmod(path, 0o600)
    return key


def session_key(settings: Any) -> str:
    """The key that signs session cookies for ``settings``.

    Args:
        settings: :class:`api.settings.Settings` (``secret_key``, ``production``,
            ``data_folder``).

    Returns:
        The configured key, or the generated key of the data folder.

    Raises:
        SecretKeyError: a public or short configured key, production without a configured
            key, or a key file that others can read.
    """
    configured = settings.secret_key
    if configured:
        return _check_configured(str(configured))
    if settings.production:
        raise SecretKeyError(
            "生产模式 (TALENTMATCH_ENVIRONMENT=production) 必须配置会话密钥：请设置 "
            f"TALENTMATCH_SECRET_KEY 为至少 {MIN_LENGTH} 个字符的随机字符串，例如 {GENERATE_HINT}")
    path = Path(settings.data_folder) / KEY_FILE
    if path.exists():
        return _read_key_file(path)
    return _generate_key_file(path)
