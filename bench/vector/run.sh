#!/usr/bin/env bash
# Vector search latency and recall@10 (see docs/benchmarks/vectors.md):
#
#   bench/vector/run.sh
#   VEC_SIZES=10000,100000 bench/vector/run.sh
#
# 1. builds vector_latency in build/kbbench (Release);
# 2. synthetic clustered 512-dimension vectors at VEC_SIZES: the exact float32 scan (Eigen GEMV, the
#    floor and the ground truth), the int8 scan with exact re-ranking, and the HNSW graph (hnswlib,
#    mcpd's defaults: M 24, ef_construction 200, ef_search 300; VEC_GRAPH_ARGS adds options such as
#    "--m 16 --ef-construction 100 --ef-search 128"; built with every core), on the same queries;
# 3. with VEC_DB=INDEX.db (e.g. the index bench/quality/run.sh keeps with KB_KEEP=1): the same on
#    that index's real use-lite vectors, VEC_QUERIES of them held out as the queries;
# 4. writes bench/results/vectors/latest.json and prints a table.
# Environment: VEC_SIZES (10000,100000,1000000), VEC_QUERIES (1000), VEC_MAX_SECONDS (60: per method
# and size), VEC_DB, BENCH_WAIT_IDLE (60), BENCH_SKIP_BUILD=1, BENCH_BUILD_DIR (build/kbbench).
# Memory: about 6 GB at 1,000,000 vectors (floats, int8 copy and graph).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
SIZES=${VEC_SIZES:-10000,100000,1000000}
QUERIES=${VEC_QUERIES:-1000}
MAX_SECONDS=${VEC_MAX_SECONDS:-60}
WAIT_IDLE=${BENCH_WAIT_IDLE:-60}
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/build/kbbench}
RESULTS=$ROOT/bench/results/vectors
log() { echo "[vectors] $*" >&2; }
source "$ROOT/bench/lib/common.sh"  # wait_idle

[[ $SIZES =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "run.sh: VEC_SIZES must be numbers separated by commas" >&2; exit 2; }
[[ $QUERIES =~ ^[0-9]+$ ]] && (( QUERIES >= 10 && QUERIES <= 100000 )) || { echo "run.sh: VEC_QUERIES must be 10..100000" >&2; exit 2; }
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building vector_latency in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMCPD_BUILD_TESTS=ON > /dev/null
  cmake --build "$BUILD_DIR" --target vector_latency > /dev/null
fi
mkdir -p "$RESULTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/vectors.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

busy=$(wait_idle)
log "synthetic vectors: $SIZES (machine ${busy}% busy before)"
GRAPH_ARGS=(${VEC_GRAPH_ARGS:-})
"$BUILD_DIR/bench/vector_latency" --sizes "$SIZES" --queries "$QUERIES" --max-seconds "$MAX_SECONDS" "${GRAPH_ARGS[@]}" > "$WORK/synthetic.json"
if [[ -n ${VEC_DB:-} ]]; then
  busy=$(wait_idle)
  log "real vectors from $VEC_DB (machine ${busy}% busy before)"
  "$BUILD_DIR/bench/vector_latency" --db "$VEC_DB" --queries "$QUERIES" --max-seconds "$MAX_SECONDS" "${GRAPH_ARGS[@]}" > "$WORK/real.json"
fi
export WORK RESULTS GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
perl -MJSON::PP -e '
  my $e = \%ENV; local $/;
  my $read = sub { open(my $f, "<", $_[0]) or return undef; my $j = decode_json(<$f>); close $f; $j };
  my $out = { git => $e->{GIT_REV}, date => scalar(gmtime) . " UTC", synthetic => $read->("$e->{WORK}/synthetic.json") };
  my $real = $read->("$e->{WORK}/real.json");
  $out->{real} = $real if $real;
  open(my $o, ">", "$e->{RESULTS}/latest.json") or die; print $o JSON::PP->new->canonical->pretty->encode($out); close $o;
  printf "%-22s %-12s %9s %9s %8s %8s\n", "vectors", "method", "p50 ms", "p99 ms", "recall", "build s";
  for my $set (grep { $_ } ($out->{synthetic}, $out->{real})) {
    for my $r (@{$set->{runs}}) {
      my $name = $r->{vectors} . ($r->{vectors_from} ? " (real)" : "");
      for my $m (qw(exact quantized approximate)) {
        my $x = $r->{$m};
        printf "%-22s %-12s %9.3f %9.3f %8s %8s\n", $name, $m, $x->{p50_ms}, $x->{p99_ms},
          defined $x->{recall_at_10} ? sprintf("%.3f", $x->{recall_at_10}) : "(truth)",
          defined $x->{build_seconds} ? sprintf("%.1f", $x->{build_seconds}) : "";
      }
    }
  }
  print "written $e->{RESULTS}/latest.json\n";'
