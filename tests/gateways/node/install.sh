#!/usr/bin/env bash
# install.sh DIR - installs the npm packages that package-lock.json (beside
# this script) pins into DIR/node_modules, once. The ws and ws-browser tests
# run it at the same time on one build directory: a lock on DIR.lock lets
# the first install while the others wait, then find DIR/package-lock.json
# equal to the pinned one and return. npm ci runs in a fresh directory whose
# node_modules replaces DIR's only once it is complete.
set -euo pipefail
DIR=$1
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$DIR"
exec 9>"$DIR.lock"
flock -w 900 9 || { echo "install.sh: $DIR.lock is held for 15 minutes" >&2; exit 1; }
if [ -d "$DIR/node_modules" ] && cmp -s "$HERE/package-lock.json" "$DIR/package-lock.json"; then
    exit 0
fi
command -v npm >/dev/null || { echo "install.sh: npm is missing (scripts/setup installs it)" >&2; exit 1; }
rm -rf "$DIR"/.install.*
tmp=$(mktemp -d "$DIR/.install.XXXXXX")
cp "$HERE/package.json" "$HERE/package-lock.json" "$tmp/"
(cd "$tmp" && npm ci --no-audit --no-fund --loglevel=error)
rm -rf "$DIR/node_modules" "$DIR/package-lock.json"
mv "$tmp/node_modules" "$DIR/node_modules"
cp "$HERE/package.json" "$DIR/"
# written last: it says the install is complete
cp "$HERE/package-lock.json" "$DIR/"
rm -rf "$tmp"
