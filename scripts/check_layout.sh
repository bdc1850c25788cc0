#!/usr/bin/env bash
# Enforces the component rules of CONVENTIONS.md: a component's sources include other
# components only through include/almanac/<component>.h, never their src/ (test helpers in
# src/<component>/testing/ are allowed in tests), and dependencies point one way.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
for dir in src/*/; do
  comp=$(basename "$dir")
  [ "$comp" = "cli" ] && continue
  while IFS= read -r line; do
    file=${line%%:*}
    inc=$(echo "$line" | sed -E 's/.*#include "([a-z_]+)\/.*/\1/')
    if [ "$inc" != "$comp" ]; then
      case "$file" in
        *_test.cc|*/testing/*) echo "$line" | grep -q '/testing/' && continue ;;
      esac
      echo "layout: $file includes private headers of component '$inc': $line" >&2
      status=1
    fi
  done < <(grep -rnE '#include "[a-z_]+/' "$dir" --include='*.cc' --include='*.h' | grep -v '#include "almanac/' || true)
done
# Allowed dependencies (public headers) per component. Tests (*_test.cc, testing/) may compose
# other components' public headers: they are not part of the library.
declare -A allowed=(
  [core]="core" [store]="core store" [data]="core store data" [models]="core models"
  [eval]="core models eval" [risk]="core models risk" [tracking]="core store tracking" [registry]="core store registry"
  [monitor]="core store data models eval registry monitor" [pipeline]="core store data models eval tracking registry risk monitor pipeline"
  [serve]="core store data models tracking registry monitor risk serve"
)
for comp in "${!allowed[@]}"; do
  [ -d "src/$comp" ] || continue
  while IFS= read -r line; do
    dep=$(echo "$line" | sed -E 's/.*#include "almanac\/([a-z_]+)[./].*/\1/')
    [ "$dep" = "version" ] && continue
    if ! [[ " ${allowed[$comp]} " == *" $dep "* ]]; then
      echo "layout: component '$comp' must not depend on '$dep': $line" >&2
      status=1
    fi
  done < <(grep -rnE '#include "almanac/' "src/$comp" "include/almanac/$comp.h" ${comp:+include/almanac/$comp} 2>/dev/null |
           grep -vE '_test\.cc:|/testing/' || true)
done
# The table "component | may include" in docs/architecture.md is the written form of the map
# above: both must say the same, so the documentation cannot drift from what is enforced.
doc=docs/architecture.md
declare -A documented=()
while IFS='|' read -r _ comps deps _; do
  deps=$(echo "$deps" | sed -E 's/\([^)]*\)//g; s/nothing of almanac//; s/,/ /g')
  for comp in $(echo "$comps" | tr ',' ' '); do documented[$comp]="$deps"; done
done < <(sed -n '/^| component | may include |$/,/^$/p' "$doc" | tail -n +3)
[ "${#documented[@]}" -gt 0 ] || { echo "layout: $doc has no 'component | may include' table" >&2; status=1; }
for comp in $(printf "%s\n" "${!allowed[@]}" "${!documented[@]}" | sort -u); do
  [ "$comp" = "cli" ] && continue
  want=$(echo "${allowed[$comp]:-}" | tr ' ' '\n' | { grep -vx "$comp" || true; } | { grep . || true; } | sort -u | tr '\n' ' ')
  have=$(echo "${documented[$comp]:-}" | tr ' ' '\n' | { grep . || true; } | sort -u | tr '\n' ' ')
  if [ "$want" != "$have" ]; then
    echo "layout: $doc says '$comp' may include [${have% }] but this script allows [${want% }]" >&2
    status=1
  fi
done
exit $status
