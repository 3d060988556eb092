#!/usr/bin/env bash
# Installs the observability tools the deploy tests run for real: Prometheus
# (prometheus, promtool) and Alertmanager (prometheus-alertmanager, amtool) from Debian's
# packages. Idempotent: does nothing when the tools are already on PATH, and
# runs `apt-get update` at most once. Without root or apt-get it says what is
# missing and exits non-zero (set EARFUL_SKIP_PROMETHEUS=1 to skip those tests).
set -euo pipefail

need=()
for tool in prometheus promtool; do
  command -v "$tool" >/dev/null 2>&1 || { need+=(prometheus); break; }
done
# Debian names the Alertmanager binary prometheus-alertmanager.
for tool in prometheus-alertmanager amtool; do
  command -v "$tool" >/dev/null 2>&1 || { need+=(prometheus-alertmanager); break; }
done

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

if [ "${EARFUL_SKIP_PROMETHEUS:-0}" = 1 ]; then
  echo "EARFUL_SKIP_PROMETHEUS=1: not installing ${need[*]}" >&2
  exit 0
fi

sudo=()
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
  else
    echo "missing: ${need[*]} (install them with apt-get as root, or set EARFUL_SKIP_PROMETHEUS=1)" >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${need[*]} and no apt-get here; install Prometheus and Alertmanager by hand" >&2
  exit 1
fi

echo "installing ${need[*]} from Debian's packages"
"${sudo[@]}" apt-get update -qq
# The packages start their services under systemd; in a container there is none,
# and policy-rc.d 101 keeps dpkg from trying.
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
  "${need[@]}" >/dev/null
for tool in prometheus promtool prometheus-alertmanager amtool; do
  command -v "$tool" >/dev/null 2>&1 || { echo "install finished but $tool is not on PATH" >&2; exit 1; }
done
echo "installed: $(promtool --version 2>&1 | head -1); $(amtool --version 2>&1 | head -1)"
