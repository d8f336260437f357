#!/usr/bin/env bash
# Re-vendor the third-party browser scripts page-tracker serves or tests against, from the
# npm registry, at pinned versions. The files are committed (with their licences), so
# neither the app nor the tests need npm; run this only to update them, then review the
# diff and `vendor.sha256` and commit.
#
#   busuanzi.pure.js  -> src/page_tracker/compat/static/busuanzi/   (served, MIT)
#   plausible-tracker -> tests/browser/vendor/plausible-tracker/     (browser tests, MIT)
#   swagger-ui-dist   -> src/page_tracker/api/static/swagger-ui/     (/api/v1/docs, Apache-2.0)
#   uplot             -> src/page_tracker/dashboard/static/uplot/    (dashboard chart, MIT)
#   axe-core          -> tests/browser/vendor/axe-core/              (accessibility checks in tests, MPL-2.0)
set -euo pipefail

BUSUANZI="busuanzi.pure.js@1.0.3"
PLAUSIBLE="plausible-tracker@0.3.9"
SWAGGER_UI="swagger-ui-dist@5.35.0"
UPLOT="uplot@1.6.32"
AXE="axe-core@4.11.0"

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

fetch() { # fetch PACKAGE@VERSION DIR: unpack the registry tarball into DIR/package
  local tarball
  tarball="$(cd "$work" && npm pack --silent "$1" 2>/dev/null | tail -n 1)"
  mkdir -p "$2"
  tar -xzf "$work/$tarball" -C "$2"
}

fetch "$BUSUANZI" "$work/busuanzi"
dest="$root/src/page_tracker/compat/static/busuanzi"
mkdir -p "$dest"
cp "$work/busuanzi/package/busuanzi.pure.js" "$work/busuanzi/package/LICENSE" "$dest/"

fetch "$PLAUSIBLE" "$work/plausible"
dest="$root/tests/browser/vendor/plausible-tracker"
mkdir -p "$dest/lib"
cp "$work/plausible/package/LICENSE" "$dest/"
cp "$work/plausible/package/build/module/index.js" "$dest/"
cp "$work/plausible/package/build/module/lib/tracker.js" \
   "$work/plausible/package/build/module/lib/request.js" "$dest/lib/"

fetch "$SWAGGER_UI" "$work/swagger-ui"
dest="$root/src/page_tracker/api/static/swagger-ui"
mkdir -p "$dest"
for file in LICENSE NOTICE swagger-ui-bundle.js swagger-ui-bundle.js.LICENSE.txt swagger-ui.css; do
  cp "$work/swagger-ui/package/$file" "$dest/"
done

fetch "$UPLOT" "$work/uplot"
dest="$root/src/page_tracker/dashboard/static/uplot"
mkdir -p "$dest"
cp "$work/uplot/package/LICENSE" "$work/uplot/package/dist/uPlot.iife.min.js" \
   "$work/uplot/package/dist/uPlot.min.css" "$dest/"

fetch "$AXE" "$work/axe"
dest="$root/tests/browser/vendor/axe-core"
mkdir -p "$dest"
cp "$work/axe/package/LICENSE" "$work/axe/package/axe.min.js" "$dest/"

cd "$root"
{
  echo "# sha256 of the vendored npm files ($BUSUANZI, $PLAUSIBLE, $SWAGGER_UI, $UPLOT, $AXE); checked by the unit tests"
  sha256sum src/page_tracker/compat/static/busuanzi/busuanzi.pure.js \
            src/page_tracker/compat/static/busuanzi/LICENSE \
            tests/browser/vendor/plausible-tracker/LICENSE \
            tests/browser/vendor/plausible-tracker/index.js \
            tests/browser/vendor/plausible-tracker/lib/tracker.js \
            tests/browser/vendor/plausible-tracker/lib/request.js \
            src/page_tracker/api/static/swagger-ui/LICENSE \
            src/page_tracker/api/static/swagger-ui/swagger-ui-bundle.js \
            src/page_tracker/api/static/swagger-ui/swagger-ui.css \
            src/page_tracker/dashboard/static/uplot/LICENSE \
            src/page_tracker/dashboard/static/uplot/uPlot.iife.min.js \
            src/page_tracker/dashboard/static/uplot/uPlot.min.css \
            tests/browser/vendor/axe-core/LICENSE \
            tests/browser/vendor/axe-core/axe.min.js
} > vendor.sha256
echo "vendored $BUSUANZI, $PLAUSIBLE, $SWAGGER_UI, $UPLOT and $AXE; see vendor.sha256"
