#!/usr/bin/env bash
# Installs, from Debian's packages, what the real-server tests start: Ceph (monitor, OSD, RADOS
# Gateway) for partner sites, PostgreSQL for the catalog, and Chromium, in which a test opens the
# HTML readiness report. Does nothing when they are already there. Needs root on Debian; elsewhere it says what is missing and fails.
set -euo pipefail

missing=()
command -v ceph-mon >/dev/null 2>&1 || missing+=(ceph-mon)
command -v ceph-osd >/dev/null 2>&1 || missing+=(ceph-osd)
command -v radosgw >/dev/null 2>&1 || missing+=(radosgw)
command -v curl >/dev/null 2>&1 || missing+=(curl)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# The HTML readiness report is opened in a real browser by its test (playwright-core drives it).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-packages: missing ${missing[*]}; install them (Debian: apt-get install ${missing[*]})," >&2
  echo "or point the tests at running servers (DATABASE_URL, GEOREP_TEST_S3_ENDPOINT)." >&2
  exit 1
fi
echo "install-packages: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
