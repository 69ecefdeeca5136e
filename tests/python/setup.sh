#!/usr/bin/env bash
# Create (or reuse) the venv holding the pinned Python MCP client for tests/python/clients.py
# and the aiosmtpd SMTP server for opsmcp-notify's SMTP test.
#
#   PY=$(bash tests/python/setup.sh) && "$PY" tests/python/clients.py http://127.0.0.1:9001
#
# The venv lives outside the clone, under ${XDG_CACHE_HOME:-$HOME/.cache}/opsmcp/venv-clients,
# so repeated runs on one machine reuse it. Installing is skipped when the venv already holds
# exactly requirements.txt (a stamp file records the hash of requirements.txt and the Python
# version it was installed for). Progress goes to stderr; stdout carries only the venv's python
# path, on the last line.
#
# Environment: PYTHON (default python3) picks the interpreter; mcp 2.3.0 needs >= 3.10.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
req="$here/requirements.txt"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/opsmcp/venv-clients"
python="${PYTHON:-python3}"
vpy="$venv/bin/python"
stamp="$venv/.opsmcp-requirements.sha256"

log() { printf 'setup.sh: %s\n' "$*" >&2; }

if ! command -v "$python" >/dev/null 2>&1; then
    log "no '$python' on PATH; install CPython >= 3.10 (e.g. apt-get install python3 python3-venv) or set PYTHON"
    exit 1
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
    log "$("$python" --version 2>&1) is too old: mcp 2.3.0 needs Python >= 3.10; set PYTHON to a newer one"
    exit 1
fi

want="$(sha256sum "$req" | cut -d' ' -f1) $("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

if [[ -x "$vpy" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && "$vpy" -c 'import mcp' 2>/dev/null; then
    log "venv up to date: $venv"
else
    # A venv made by another Python minor version (or a half-finished one) is rebuilt from scratch.
    if [[ -e "$venv" ]]; then
        log "rebuilding $venv (requirements or Python changed)"
        rm -rf "$venv"
    fi
    mkdir -p "$(dirname "$venv")"
    log "creating venv with $("$python" --version 2>&1) at $venv"
    if ! "$python" -m venv "$venv" >&2; then
        log "python -m venv failed; on Debian install python3-venv (apt-get install python3-venv)"
        rm -rf "$venv"
        exit 1
    fi
    log "installing $req"
    "$vpy" -m pip install --disable-pip-version-check --no-input --quiet -r "$req" >&2
    "$vpy" -c 'import mcp, importlib.metadata as m; assert m.version("mcp") == "2.3.0", m.version("mcp")'
    printf '%s\n' "$want" > "$stamp"
fi

printf '%s\n' "$vpy"
