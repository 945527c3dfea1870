#!/usr/bin/env bash
# Installs, from Debian's packages, the servers the real-server tests start: Ceph (monitor, OSD,
# RADOS Gateway) for partner sites and PostgreSQL for the catalog. Does nothing when they are
# already there. Needs root on Debian; elsewhere it says what is missing and fails.
set -euo pipefail

missing=()
command -v ceph-mon >/dev/null 2>&1 || missing+=(ceph-mon)
command -v ceph-osd >/dev/null 2>&1 || missing+=(ceph-osd)
command -v radosgw >/dev/null 2>&1 || missing+=(radosgw)
command -v curl >/dev/null 2>&1 || missing+=(curl)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)

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
