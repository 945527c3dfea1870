#!/bin/sh
# georep-setup: brings a shared catalog to the sites and contracts it is given, and makes sure the
# repository exists. Safe to run again and again (compose's init service, the Kubernetes Job, an
# operator after editing a contract):
#
#   1. every site of $GEOREP_SITES_FILE not yet registered is added (`georep site add`, which
#      probes it first); a registered site is left as it is, even when its line changed: to change
#      one, `georep site remove <name>` and run this again;
#   2. when no listed site holds a repository, `georep init` creates one at the first site (the
#      others get it when the first snapshot is shipped to them); a site holding one means the
#      repository exists, and init is never run again: a second repository would split the sites;
#   3. `georep policy apply` of every contract in $GEOREP_CONTRACTS_DIR: all or nothing, and a
#      contract whose text did not change stores nothing.
#
# The sites file: one site a line, `<name> <url> <site add options>`, `#` comments; no value may
# contain a space. The repository password and the credentials come from the environment
# (GEOREP_PASSWORD_FILE, the references in the URLs), never from this script's arguments.
set -eu

sites_file=${GEOREP_SITES_FILE:-/etc/georep/sites}
contracts_dir=${GEOREP_CONTRACTS_DIR:-/etc/georep/contracts}

[ -r "$sites_file" ] || { echo "georep-setup: cannot read the sites file $sites_file (GEOREP_SITES_FILE)" >&2; exit 2; }

# 1. Sites. georep reads no stdin here, but a command in a `while read` loop must not get the file.
while read -r name url options; do
  case "$name" in '' | '#'*) continue ;; esac
  if georep site show "$name" </dev/null >/dev/null 2>&1; then
    echo "site $name: registered"
  else
    # shellcheck disable=SC2086 # the options are separate words on purpose
    georep site add "$name" "$url" $options </dev/null
  fi
done <"$sites_file"

# 2. The repository: looked for at every listed site, created at the first only when none holds one.
first=''
holder=''
while read -r name url options; do
  case "$name" in '' | '#'*) continue ;; esac
  [ -n "$first" ] || first=$url
  if out=$(georep snapshots --site "$url" --json </dev/null 2>&1); then
    holder=$name
    break
  fi
  case "$out" in
    *'holds no repository (no config)'*) ;;
    *) printf 'georep-setup: cannot tell whether site %s holds a repository:\n%s\n' "$name" "$out" >&2; exit 1 ;;
  esac
done <"$sites_file"
if [ -n "$holder" ]; then
  echo "repository: found at site $holder"
elif [ -n "$first" ]; then
  georep init --site "$first" </dev/null
else
  echo "georep-setup: $sites_file lists no site" >&2
  exit 2
fi

# 3. Contracts.
set -- "$contracts_dir"/*.yaml
[ -e "$1" ] || { echo "georep-setup: no contract (*.yaml) in $contracts_dir (GEOREP_CONTRACTS_DIR)" >&2; exit 2; }
georep policy apply "$@" </dev/null
