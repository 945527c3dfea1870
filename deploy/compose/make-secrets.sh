#!/bin/sh
# Writes the secrets compose.yaml mounts, into ./secrets (mode 700; every file mode 600), with
# random values. A file that exists is kept: above all the repository password, which must never
# change under an existing repository (keep a copy of it off this machine: without it nobody can
# restore). secrets.example/ shows each file's format.
#
# The georep containers run as uid 10001 and refuse a password, pgpass or credentials file that
# group or others may read, so their files must belong to 10001 (Compose mounts them as they are
# on the host). Run as root, this script does that; otherwise it says what to run.
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
chmod 700 secrets

random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
# new <file> <content>: writes the file unless it exists.
new() {
  if [ -e "secrets/$1" ]; then echo "kept    secrets/$1"; return; fi
  printf '%s\n' "$2" >"secrets/$1"
  echo "created secrets/$1"
}

db_password=$(cat secrets/postgres-password 2>/dev/null || random)
new postgres-password "$db_password"
# host:port:database:user:password, read by georep through PGPASSFILE.
new pgpass "postgres:5432:georep:georep:$db_password"
new repository-password "$(random)"
for site in a b c; do
  user=$(cat "secrets/site-$site-root-user" 2>/dev/null || echo "georep-$site")
  password=$(cat "secrets/site-$site-root-password" 2>/dev/null || random)
  new "site-$site-root-user" "$user"
  new "site-$site-root-password" "$password"
  new "site-$site-credentials" "$(printf 'access_key_id=%s\nsecret_access_key=%s' "$user" "$password")"
done

georep_files='pgpass repository-password site-a-credentials site-b-credentials site-c-credentials'
if [ "$(id -u)" = 0 ]; then
  for f in $georep_files; do chown 10001:10001 "secrets/$f"; done
  echo "gave the georep files to uid 10001"
else
  echo "not root: give georep's files to its uid before 'docker compose up':"
  printf '  sudo chown 10001:10001'
  for f in $georep_files; do printf ' %s' "$(pwd)/secrets/$f"; done
  printf '\n'
fi
