#!/usr/bin/env bash
# The main job on the embedded default, end to end: a sample emergency dataset is snapshotted into
# an encrypted repository at a local file:// site (standing in for a partner site), snapshotted
# again (nothing new is stored), restored, and the restore is compared byte for byte with the
# source. Shipping to several sites, verification and drills join this script as they land.
set -euo pipefail
cd "$(dirname "$0")/.."
demo="${GEOREP_DEMO_DIR:-$PWD/.georep-demo}"
georep() { node bin/georep.js "$@"; }

mkdir -p "$demo"
export GEOREP_HOME="$demo/home"
# The demo's password lives in a file only we can read; a real one comes from your secret store.
if [ ! -f "$demo/password" ]; then
  (umask 077 && head -c 24 /dev/urandom | base64 > "$demo/password")
fi
export GEOREP_PASSWORD_FILE="$demo/password"
site="file://$demo/site-a"

echo "== sample dataset in $demo/data"
node scripts/sample-dataset.ts "$demo/data"

echo "== georep site probe $site"
mkdir -p "$demo/site-a"
georep site probe "$site"

if [ ! -f "$demo/site-a/config" ]; then
  echo "== georep init --site $site"
  georep init --site "$site"
fi

echo "== georep snapshot (twice: the second stores nothing new)"
georep snapshot "$demo/data" --site "$site"
georep snapshot "$demo/data" --site "$site"
georep snapshots --site "$site"

echo "== georep restore latest"
rm -rf "$demo/restored"
georep restore latest --to "$demo/restored" --site "$site"
diff -r "$demo/data" "$demo/restored"
echo "== restored tree is identical to the source"
