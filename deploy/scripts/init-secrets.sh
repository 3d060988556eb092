#!/usr/bin/env bash
# Creates the secret files docker compose mounts, without touching existing ones.
# Grafana's admin password is generated; webhook URLs and keys start empty.
set -euo pipefail
dir="$(cd "$(dirname "$0")/.." && pwd)/secrets"
mkdir -p "$dir"
# Compose bind-mounts file secrets with their host permissions, and Grafana and
# Alertmanager run as their own users: the files must be world-readable.
umask 022
if [ ! -s "$dir/grafana_admin_password" ]; then
  python3 -c 'import secrets; print(secrets.token_urlsafe(18))' > "$dir/grafana_admin_password"
  echo "generated $dir/grafana_admin_password"
fi
for name in slack_webhook_url pagerduty_routing_key teams_webhook_url; do
  [ -e "$dir/$name" ] || { : > "$dir/$name"; echo "created empty $dir/$name"; }
done
