#!/bin/sh
# Run once by the compose stack's init service (temporalio/admin-tools): a cluster, unlike `temporal server
# start-dev --search-attribute`, starts without leadsync's search attributes, and workflows that upsert one fail.
# Keep the list in step with LEADSYNC_SEARCH_ATTRIBUTES in src/core/search-attributes.ts.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS must name the frontend, e.g. temporal:7233}"
NAMESPACE="${TEMPORAL_NAMESPACE:-default}"
ATTRIBUTES="LeadsyncVendor=Keyword LeadsyncAccount=Keyword LeadsyncSource=Text LeadsyncState=Keyword"

# auto-setup creates the schema, starts the server, then registers the namespace: wait for the namespace, with a
# bound so a broken cluster fails this step (and keeps the workers from starting) instead of hanging it.
tries=0
until temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 150 ]; then
    echo "namespace $NAMESPACE not found at $TEMPORAL_ADDRESS after 5 minutes" >&2
    exit 1
  fi
  sleep 2
done

# Creating an attribute that exists is an error: add only the missing ones, so a restarted stack passes this step.
existing="$(temporal operator search-attribute list --namespace "$NAMESPACE")"
for attribute in $ATTRIBUTES; do
  name="${attribute%%=*}"
  type="${attribute#*=}"
  if printf '%s\n' "$existing" | grep -qw "$name"; then
    echo "search attribute $name exists"
  else
    temporal operator search-attribute create --namespace "$NAMESPACE" --name "$name" --type "$type"
    echo "search attribute $name ($type) created"
  fi
done
