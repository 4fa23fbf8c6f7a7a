#!/usr/bin/env bash
# The Debian packages `make test` and `make run` need: chromium (browser tests) and
# fonts-noto-cjk (Chinese text in the demand-map pictures).
#
#   .ci/system-deps.sh browser fonts   # make test
#   .ci/system-deps.sh fonts           # make run
#
# Installs what is missing when it can (root, or password-less sudo, with apt-get): first
# `apt-get update`, then `apt-get install -y chromium fonts-noto-cjk`. When it cannot, it
# fails at once (exit 1) with the one command to run. The paths and the package tool can be
# overridden for tests: TALENTMATCH_CHROMIUM, TALENTMATCH_CJK_FONT, TALENTMATCH_APT_GET,
# TALENTMATCH_AS_ROOT (1/0, default: whether `id -u` is 0).
set -euo pipefail

CHROMIUM="${TALENTMATCH_CHROMIUM:-/usr/bin/chromium}"
CJK_FONT="${TALENTMATCH_CJK_FONT:-/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc}"
APT_GET="${TALENTMATCH_APT_GET:-apt-get}"
PACKAGES="chromium fonts-noto-cjk"
COMMAND="sudo apt-get update && sudo apt-get install -y ${PACKAGES}"

want=("$@")
[ ${#want[@]} -gt 0 ] || want=(browser fonts)

missing() {
  local out=()
  for w in "${want[@]}"; do
    case "$w" in
      browser) [ -x "$CHROMIUM" ] || out+=("chromium（找不到 ${CHROMIUM}）") ;;
      fonts) [ -f "$CJK_FONT" ] || out+=("fonts-noto-cjk（找不到 ${CJK_FONT}）") ;;
      *) echo "system-deps: 未知项「$w」（可选 browser、fonts）" >&2; exit 2 ;;
    esac
  done
  if [ ${#out[@]} -gt 0 ]; then printf '%s\n' "${out[@]}"; fi
}

need="$(missing)"
[ -z "$need" ] && exit 0

as_root="${TALENTMATCH_AS_ROOT:-}"
if [ -z "$as_root" ]; then
  if [ "$(id -u)" = 0 ]; then as_root=1; else as_root=0; fi
fi
prefix=()
if [ "$as_root" != 1 ] && command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  prefix=(sudo -n)
  as_root=1
fi

if [ "$as_root" != 1 ] || ! command -v "$APT_GET" >/dev/null 2>&1; then
  {
    echo "缺少系统软件包："
    sed 's/^/  - /' <<<"$need"
    echo "请先运行（需要 root 权限，Debian/Ubuntu）："
    echo "  ${COMMAND}"
  } >&2
  exit 1
fi

echo "正在安装缺少的系统软件包：${PACKAGES}（apt-get update && apt-get install -y）" >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${prefix[@]}" "$APT_GET" update -q >&2 || \
   ! "${prefix[@]}" "$APT_GET" install -y -q $PACKAGES >&2; then
  echo "安装失败：请手动运行 ${COMMAND}" >&2
  exit 1
fi

need="$(missing)"
if [ -n "$need" ]; then
  {
    echo "安装后仍缺少："
    sed 's/^/  - /' <<<"$need"
    echo "请检查后手动运行：${COMMAND}"
  } >&2
  exit 1
fi
