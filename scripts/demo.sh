#!/usr/bin/env bash
# The main job on the embedded default, for a first look: a local file:// folder stands in for a
# partner site, and georep measures what it can do. Later stages (snapshot, ship, verify, drill)
# join this script as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
home="${GEOREP_DEMO_DIR:-$PWD/.georep-demo}"
mkdir -p "$home/site-a"

echo "== georep site probe file://$home/site-a"
node bin/georep.js site probe "file://$home/site-a"
