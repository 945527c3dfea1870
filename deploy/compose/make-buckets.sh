#!/bin/sh
# Creates each partner site's bucket (compose's `buckets` service, in the MinIO image, which
# carries mc). Safe to run again: an existing bucket is left alone. The keys reach mc through
# MC_HOST_<alias> in this process's environment, never through arguments.
set -eu
for site in a b c; do
  user=$(cat "/run/secrets/site-$site-root-user")
  password=$(cat "/run/secrets/site-$site-root-password")
  export "MC_HOST_$site=http://$user:$password@site-$site:9000"
  mc mb --ignore-existing "$site/georep-$site"
done
