#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages, on a fresh machine:
# Java and Maven for the local Kafka broker, and the observability tools
# (Prometheus, Alertmanager) when the deploy tests need them. Idempotent.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

need=()
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing ${need[*]} from Debian's packages"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing: ${need[*]} (install them, or set EARFUL_TEST_KAFKA_BOOTSTRAP)" >&2
    exit 1
  fi
fi

if [ -x "$here/install-observability.sh" ]; then
  "$here/install-observability.sh"
fi
