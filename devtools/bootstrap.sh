#!/bin/sh
# Creates the virtualenv, installing the few Debian packages a bare machine lacks
# (venv support for Python, and Pango for WeasyPrint's invoice PDFs) when run as root.
set -eu
PYTHON="$1"
VENV="$2"
missing=""
"$PYTHON" -c "import ensurepip, venv" 2>/dev/null || missing="$missing python3-venv"
ldconfig -p 2>/dev/null | grep -q libpango-1.0 || missing="$missing libpango-1.0-0 libpangoft2-1.0-0"
if [ -n "$missing" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
        echo "[bootstrap] installing Debian packages:$missing"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
    else
        echo "[bootstrap] please install:$missing (sudo apt-get install$missing)" >&2
        exit 1
    fi
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
