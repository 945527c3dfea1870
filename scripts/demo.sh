#!/usr/bin/env bash
# The main job on the embedded default, end to end: three partner sites (three local file://
# folders stand in for them; the catalog is the embedded PGlite under $GEOREP_HOME) and one
# contract saying what is protected, where and how long. A sample emergency dataset is
# snapshotted by the contract into an encrypted repository and shipped to the sites its placement
# chooses, snapshotted again (nothing new is stored), the state of every site is shown, retention
# and prune say what they would remove, and the data is restored from one chosen site and
# compared byte for byte with the source. Then the verifier proves it: every copy is checked,
# one site is broken on purpose and repaired from the others, a restore drill is timed against
# the contract's RTO, and the readiness report is written (text, and one HTML page).
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

echo "== sample dataset in $demo/data"
node scripts/sample-dataset.ts "$demo/data"

echo "== three partner sites in the registry"
add_site() { # name region lat lon
  mkdir -p "$demo/$1"
  if ! georep site show "$1" >/dev/null 2>&1; then
    georep site add "$1" "file://$demo/$1" --region "$2" --lat "$3" --lon "$4" --jurisdiction CN
  fi
}
add_site chengdu-a sichuan 30.66 104.07
add_site mianyang-b sichuan 31.47 104.68
add_site xian-c shaanxi 34.34 108.94
georep site list

if [ ! -f "$demo/chengdu-a/config" ]; then
  echo "== georep init --site chengdu-a"
  georep init --site "file://$demo/chengdu-a"
fi

echo "== the contract: docs/CONTRACTS.md"
mkdir -p "$demo/contracts"
cat > "$demo/contracts/shelters.yaml" <<YAML
contract: sichuan-shelters
dataset: { name: shelters, source: { type: directory, path: $demo/data } }
tier: critical
schedule: "*/15 * * * *"
rpo: 30m
rto: 10m
copies: 3
placement: { sites: [chengdu-a, mianyang-b, xian-c], minRegions: 2, minDistanceKm: 100, jurisdictions: [CN] }
retention: { last: 4, hourly: 24, daily: 14 }
YAML
georep policy validate "$demo/contracts/shelters.yaml"
georep policy plan "$demo/contracts/shelters.yaml"
georep policy apply "$demo/contracts/shelters.yaml"

echo "== georep snapshot --contract sichuan-shelters (twice: the second stores nothing new)"
georep snapshot --contract sichuan-shelters
georep snapshot --contract sichuan-shelters

echo "== georep status"
georep status

echo "== what retention and prune would remove (dry runs)"
georep forget --contract sichuan-shelters
georep prune

echo "== georep restore latest from xian-c"
rm -rf "$demo/restored"
georep restore latest --to "$demo/restored" --site "file://$demo/xian-c"
diff -r "$demo/data" "$demo/restored"
echo "== restored tree is identical to the source"

echo "== georep verify --level deep: download, hash and decrypt every copy at every site"
georep verify --level deep

echo "== break xian-c on purpose: one bit of one of its packs flipped"
pack="$(find "$demo/xian-c/data" -type f | sort | head -n 1)"
chmod u+w "$pack"
node -e 'const fs = require("node:fs"); const b = fs.readFileSync(process.argv[1]); b[b.length >> 1] ^= 1; fs.writeFileSync(process.argv[1], b);' "$pack"
if georep verify --level deep --site xian-c; then
  echo "verify missed the damage" >&2
  exit 1
fi
echo "== georep repair --site xian-c: the same bytes from a healthy site, hash-checked"
georep repair --site xian-c
georep verify --level deep --site xian-c

echo "== georep drill: restore from one site into a sandbox, check every byte, time it against the RTO"
georep drill --contract sichuan-shelters

echo "== georep report: is the contract's promise kept? (also as one HTML page)"
georep report --format html --out "$demo/report.html"
# Exit 0 meets, 3 at risk, 1 breached: a scheduler pages on 1; the demo only shows the verdict.
georep report || true
echo "== open $demo/report.html in a browser for the charts and the site map"
