#!/usr/bin/env bash
# deps.sh — install the Debian packages named on the command line (make deps / make datasets).
set -u
pkgs=("$@")
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null || true
    $cmd || { echo "deps: '$cmd' failed" >&2; exit 1; }
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || true
    sudo DEBIAN_FRONTEND=noninteractive $cmd || { echo "deps: 'sudo $cmd' failed" >&2; exit 1; }
else
    echo "deps: missing packages; run as root:  sudo apt-get update && sudo $cmd" >&2
    exit 1
fi
