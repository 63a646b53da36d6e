#!/bin/sh
# Creates the virtualenv, installing the few Debian packages a bare machine lacks
# (venv support for Python, and Pango for WeasyPrint's invoice PDFs) when run as root.
# Also, when root: Janus and GStreamer for the local relay provider (optional: without
# them RELAY_PROVIDER falls back to the simulated cloud).
set -eu
PYTHON="$1"
VENV="$2"
missing=""
"$PYTHON" -c "import ensurepip, venv" 2>/dev/null || missing="$missing python3-venv"
ldconfig -p 2>/dev/null | grep -q libpango-1.0 || missing="$missing libpango-1.0-0 libpangoft2-1.0-0"
relays=""
for pkg in janus gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-plugins-base; do
    dpkg -s "$pkg" >/dev/null 2>&1 || relays="$relays $pkg"
done
if [ -n "$missing$relays" ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "[bootstrap] installing Debian packages:$missing$relays"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing $relays
    if [ -n "$relays" ] && [ -d /run/systemd/system ]; then
        # The package starts a default Janus on all interfaces; the provider runs its own.
        systemctl disable --now janus >/dev/null 2>&1 || true
    fi
elif [ -n "$missing" ]; then
    echo "[bootstrap] please install:$missing (sudo apt-get install$missing)" >&2
    exit 1
elif [ -n "$relays" ]; then
    echo "[bootstrap] optional, for local Janus relays: sudo apt-get install$relays" >&2
fi
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
