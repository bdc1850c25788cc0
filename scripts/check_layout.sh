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
  [monitor]="core store data models eval registry monitor" [pipeline]="core store data models eval tracking registry pipeline"
  [serve]="core store data models registry monitor serve"
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
exit $status
