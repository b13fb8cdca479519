#!/usr/bin/env bash
# Knowledge-pack benchmark (see docs/benchmarks/knowledge.md).
#
#   bench/knowledge/run.sh
#   KB_QUERIES=2000 bench/knowledge/run.sh
#
# 1. installs the `manpages` and `manpages-dev` packages when missing, so the corpus is stable;
# 2. builds mcpd and kb_search_latency in build/kbbench (Release);
# 3. corpus: every man page under /usr/share/man (*.gz, symlinks skipped), decompressed into
#    bench/results/knowledge/corpus with its man*/ folders (reused while /usr/share/man is unchanged);
# 4. queries: the descriptions on the pages' NAME lines ("list directory contents"), distinct, in a
#    fixed pseudo-random order (bench/knowledge/name_queries.pl);
# 5. `mcpd kb sync` into a fresh index (full lexical build: MB/s, documents/s), then again
#    (resync with no change); not pinned: the sync reads and extracts on one core while it writes
#    the index on the other;
# 6. `mcpd serve --http 127.0.0.1:0 --enable-pack knowledge --threads 1` (no start-up sync) and
#    kb_search_latency: search_documents over MCP/HTTP against the same SQL run directly on the
#    index's SQLite FTS5 tables, interleaved, after a warm-up;
# 7. prints a summary and writes bench/results/knowledge/latest.json.
#
# Environment (all optional):
#   KB_QUERIES=1000        measured queries (>= 1000 for the published figures)
#   KB_WARMUP=100          unrecorded warm-up queries
#   KB_NAIVE=100           the first N measured queries also run as one plain FTS5 OR query with
#                          bm25() (how mcpd searched before the tiers; ~170 ms each), for comparison
#   KB_MAX_PAGES=40000     at most this many pages in the corpus
#   KB_MAX_SECONDS=1200    time limit of the search pass
#   KB_CORPUS=DIR          use this corpus instead (a folder of man pages)
#   KB_KEEP=1              keep the work folder (index, logs)
#   BENCH_SERVER_CPU=0     CPU mcpd serve is pinned to (two CPUs or more)
#   BENCH_LOADGEN_CPU=1    CPU the driver (and so the direct SQLite queries) is pinned to
#   BENCH_WAIT_IDLE=60     before each measured part, wait up to this many seconds for the machine
#                          to be >= 90% idle over 2 s (0: no waiting); the busy share is recorded
#   BENCH_SKIP_BUILD=1     use the existing binaries
#   BENCH_SKIP_APT=1       do not install packages
#   BENCH_BUILD_DIR        build directory (default build/kbbench)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"

QUERIES=${KB_QUERIES:-1000}
WARMUP=${KB_WARMUP:-100}
NAIVE=${KB_NAIVE:-100}
MAX_PAGES=${KB_MAX_PAGES:-40000}
MAX_SECONDS=${KB_MAX_SECONDS:-1200}
SERVER_CPU=${BENCH_SERVER_CPU:-0}
LOADGEN_CPU=${BENCH_LOADGEN_CPU:-1}
WAIT_IDLE=${BENCH_WAIT_IDLE:-60}
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/build/kbbench}
RESULTS=$ROOT/bench/results/knowledge
CORPUS=${KB_CORPUS:-$RESULTS/corpus}
MCPD=$BUILD_DIR/mcpd
DRIVER=$BUILD_DIR/bench/kb_search_latency
MAN_ROOT=/usr/share/man

for v in QUERIES WARMUP NAIVE MAX_PAGES MAX_SECONDS SERVER_CPU LOADGEN_CPU WAIT_IDLE; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "run.sh: $v must be a non-negative integer (got '${!v}')" >&2; exit 2; }
done
(( QUERIES >= 1 && QUERIES <= 100000 )) || { echo "run.sh: KB_QUERIES must be 1..100000" >&2; exit 2; }
(( MAX_SECONDS >= 10 && MAX_SECONDS <= 3600 )) || { echo "run.sh: KB_MAX_SECONDS must be 10..3600" >&2; exit 2; }

log() { echo "[kb-bench] $*" >&2; }

# ---- 1. packages ----
missing=()
for p in manpages manpages-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if (( ${#missing[@]} > 0 )); then
  if [[ ${BENCH_SKIP_APT:-0} == 1 ]]; then
    log "warning: ${missing[*]} not installed (BENCH_SKIP_APT=1): the corpus differs from the published one"
  else
    log "installing ${missing[*]}"
    SUDO=(); (( EUID == 0 )) || SUDO=(sudo)
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
      { "${SUDO[@]}" apt-get update >&2 && "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2; }
  fi
fi
if grep -qs 'path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
  log "warning: dpkg excludes /usr/share/man on this machine (see /etc/dpkg/dpkg.cfg.d): pages may be missing"
fi
for t in cmake perl taskset; do
  command -v "$t" > /dev/null || { echo "run.sh: $t is required" >&2; exit 2; }
done

# ---- 2. build ----
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building mcpd and kb_search_latency in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMCPD_BUILD_TESTS=ON > /dev/null
  cmake --build "$BUILD_DIR" --target mcpd kb_search_latency > /dev/null
fi
[[ -x $MCPD && -x $DRIVER ]] || { echo "run.sh: $MCPD or $DRIVER missing" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kb-bench.XXXXXX")
SERVER_PID=
cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$SERVER_PID" 2>/dev/null && kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  if [[ ${KB_KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$RESULTS"

# cpu_jiffies, busy_pct, wait_idle and UNSET.
source "$ROOT/bench/lib/common.sh"
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b - a}'; }

# ---- 3. corpus ----
if [[ -z ${KB_CORPUS:-} ]]; then
  # Signature of the installed pages: count, total compressed size and newest change.
  SIGNATURE=$(find "$MAN_ROOT" -name '*.gz' -type f -printf '%s %T@\n' 2>/dev/null |
              awk '{n++; s+=$1; if ($2 > m) m = $2} END {printf "%d %d %d", n, s, m}')
  if [[ -d $CORPUS && -f $CORPUS.signature && $(cat "$CORPUS.signature") == "$SIGNATURE" ]]; then
    log "corpus: reusing $CORPUS"
  else
    log "corpus: decompressing the pages of $MAN_ROOT into $CORPUS (at most $MAX_PAGES)"
    rm -rf "$CORPUS.tmp"
    mkdir -p "$CORPUS.tmp"
    # One process for ~20,000 pages; symlinks (aliases) and anything not a regular .gz are skipped;
    # a page larger than 10 MiB decompressed is cut off (mcpd refuses those anyway).
    MAN_ROOT=$MAN_ROOT OUT=$CORPUS.tmp MAX=$MAX_PAGES perl -MFile::Find -MFile::Path=make_path -MIO::Uncompress::Gunzip=gunzip,\$GunzipError -e '
      my ($root, $out, $max) = @ENV{qw(MAN_ROOT OUT MAX)};
      my @files;
      find({ no_chdir => 1, wanted => sub { push @files, $_ if /\.gz\z/ && -f $_ && !-l $_ } }, $root);
      @files = sort @files;
      splice(@files, $max) if @files > $max;
      my $n = 0;
      for my $f (@files) {
        (my $rel = substr($f, length($root) + 1)) =~ s/\.gz\z//;
        next if $rel =~ m{(^|/)\.\.?(/|\z)};
        (my $dir = "$out/$rel") =~ s{/[^/]*\z}{};
        make_path($dir);
        my $data;
        unless (gunzip($f => \$data, BinModeOut => 1)) { warn "skipped $f: $GunzipError\n"; next; }
        $data = substr($data, 0, 10 * 1024 * 1024) if length($data) > 10 * 1024 * 1024;
        open(my $fh, ">:raw", "$out/$rel") or die "$out/$rel: $!";
        print $fh $data; close $fh; $n++;
      }
      print STDERR "[kb-bench] corpus: $n pages\n";'
    rm -f "$CORPUS.signature"
    rm -rf "$CORPUS"
    mv "$CORPUS.tmp" "$CORPUS"
    echo "$SIGNATURE" > "$CORPUS.signature"
  fi
fi
[[ -d $CORPUS ]] || { echo "run.sh: no corpus at $CORPUS" >&2; exit 2; }
read -r PAGES CORPUS_BYTES < <(find "$CORPUS" -type f -printf '%s\n' | awk '{n++; s+=$1} END {print n+0, s+0}')
log "corpus: $PAGES pages, $CORPUS_BYTES bytes"

# ---- 4. queries ----
perl "$ROOT/bench/knowledge/name_queries.pl" "$CORPUS" "$QUERIES" > "$WORK/queries.txt"
NQ=$(wc -l < "$WORK/queries.txt")
log "queries: $NQ distinct NAME-line descriptions"
(( NQ >= QUERIES )) || log "warning: only $NQ queries (asked for $QUERIES)"
cp "$WORK/queries.txt" "$RESULTS/queries.txt"

# ---- 5. index build and no-change resync ----
cat > "$WORK/kb.toml" <<EOF
[server]
data_dir = "$WORK/data"
[packs.knowledge]
index = "$WORK/data/kb.db"
sync_on_start = false
[packs.knowledge.embeddings]
provider = "none"  # the lexical index build is measured (use-lite is the default when installed)
[[packs.knowledge.sources]]
name = "man"
type = "directory"
path = "$CORPUS"
EOF
PIN=(); PIN_DRIVER=()
if (( $(nproc) >= 2 )); then PIN=(taskset -c "$SERVER_CPU"); PIN_DRIVER=(taskset -c "$LOADGEN_CPU"); fi

# Reads a field of the sync answer: results[0].FIELD.
sync_field() { perl -MJSON::PP -e 'local $/; my $j = decode_json(<STDIN>); print $j->{results}[0]{$ARGV[0]}' "$2" < "$1"; }

sync_once() {  # $1: name; prints wall seconds
  local t0 t1
  t0=$(now)
  env "${UNSET[@]}" "$MCPD" kb sync --config "$WORK/kb.toml" > "$WORK/$1.json" 2> "$WORK/$1.err" ||
    { cat "$WORK/$1.err" >&2; echo "run.sh: kb sync failed" >&2; exit 1; }
  t1=$(now)
  elapsed "$t0" "$t1"
}

BUSY_BUILD=$(wait_idle)
sync 2>/dev/null || true
log "full index build (mcpd kb sync)"
BUILD_WALL=$(sync_once build)
BUILD_ENGINE=$(sync_field "$WORK/build.json" seconds)
ADDED=$(sync_field "$WORK/build.json" added)
SKIPPED=$(sync_field "$WORK/build.json" skipped)
DB_BYTES=$(stat -c %s "$WORK/data/kb.db")
BUSY_RESYNC=$(wait_idle)
log "resync with no change (mcpd kb sync)"
RESYNC_WALL=$(sync_once resync)
RESYNC_ENGINE=$(sync_field "$WORK/resync.json" seconds)
UNCHANGED=$(sync_field "$WORK/resync.json" unchanged)
(( UNCHANGED == ADDED )) || log "warning: the resync found changes ($UNCHANGED unchanged of $ADDED)"
CHUNKS=$(env "${UNSET[@]}" "$MCPD" kb stats --config "$WORK/kb.toml" 2>/dev/null |
         perl -MJSON::PP -e 'local $/; my $j = eval { decode_json(<STDIN>) } || {}; my $n = 0;
           for my $s (@{$j->{sources} || []}) { $n += $s->{chunks} || 0 } print $n' || echo 0)

# ---- 6. search latency ----
log "search: mcpd serve (CPU ${PIN[*]:+$SERVER_CPU}) and kb_search_latency"
env "${UNSET[@]}" MCP_RATE_LIMIT_PER_SECOND=0 "${PIN[@]}" "$MCPD" serve --http 127.0.0.1:0 --enable-pack knowledge --config "$WORK/kb.toml" \
  --threads 1 --log-level info > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER_PID=$!
PORT=
for ((i = 0; i < 100; i++)); do
  PORT=$(grep -o '"event":"listening","transport":"http","address":"127\.0\.0\.1:[0-9]*"' "$WORK/serve.err" 2>/dev/null | grep -o '[0-9]*"$' | tr -d '"' || true)
  [[ -n $PORT ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
[[ -n $PORT ]] || { cat "$WORK/serve.err" >&2; echo "run.sh: mcpd did not start listening" >&2; exit 1; }
BUSY_SEARCH=$(wait_idle)
"${PIN_DRIVER[@]}" timeout $((MAX_SECONDS + 60)) "$DRIVER" --url "http://127.0.0.1:$PORT/mcp" --db "$WORK/data/kb.db" \
  --queries "$WORK/queries.txt" --max-queries "$QUERIES" --warmup "$WARMUP" --naive "$NAIVE" --max-seconds "$MAX_SECONDS" \
  > "$WORK/search.json" || { echo "run.sh: kb_search_latency failed" >&2; cat "$WORK/search.json" >&2; exit 1; }
SERVER_RSS_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
kill -TERM "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=

# ---- 7. summary ----
export WORK RESULTS PAGES CORPUS_BYTES ADDED SKIPPED CHUNKS DB_BYTES BUILD_WALL BUILD_ENGINE RESYNC_WALL RESYNC_ENGINE \
  UNCHANGED BUSY_BUILD BUSY_RESYNC BUSY_SEARCH SERVER_RSS_KB NQ
export GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
export GIT_DIRTY=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null | head -1)
export CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
export NPROC=$(nproc) KERNEL=$(uname -r) SQLITE_VERSION=$(pkg-config --modversion sqlite3 2>/dev/null || echo unknown)
export PINNED=${PIN[*]:+1}
perl -MJSON::PP -e '
  my $e = \%ENV;
  local $/;
  open(my $f, "<", "$e->{WORK}/search.json") or die; my $search = decode_json(<$f>); close $f;
  my $mb = $e->{CORPUS_BYTES} / 1e6;
  my $num = sub { 0 + sprintf("%.3f", $_[0]) };
  my $busy = sub { $_[0] eq "null" ? undef : 0 + $_[0] };
  my %r = (
    date => scalar(gmtime) . " UTC", git => $e->{GIT_REV} . ($e->{GIT_DIRTY} ? "+dirty" : ""),
    machine => { cpu => $e->{CPU_MODEL}, cpus => 0 + $e->{NPROC}, kernel => $e->{KERNEL}, sqlite => $e->{SQLITE_VERSION},
                 pinned => $e->{PINNED} ? JSON::PP::true : JSON::PP::false,
                 busy_pct_before => { build => $busy->($e->{BUSY_BUILD}), resync => $busy->($e->{BUSY_RESYNC}), search => $busy->($e->{BUSY_SEARCH}) } },
    corpus => { pages => 0 + $e->{PAGES}, bytes => 0 + $e->{CORPUS_BYTES}, indexed => 0 + $e->{ADDED}, skipped => 0 + $e->{SKIPPED},
                chunks => 0 + $e->{CHUNKS}, index_bytes => 0 + $e->{DB_BYTES} },
    build => { wall_seconds => $num->($e->{BUILD_WALL}), sync_seconds => $num->($e->{BUILD_ENGINE}),
               mb_per_s => $num->($mb / $e->{BUILD_WALL}), documents_per_s => $num->($e->{ADDED} / $e->{BUILD_WALL}) },
    resync => { wall_seconds => $num->($e->{RESYNC_WALL}), sync_seconds => $num->($e->{RESYNC_ENGINE}), unchanged => 0 + $e->{UNCHANGED} },
    search => $search,
    server_rss_kb => 0 + $e->{SERVER_RSS_KB},
  );
  my $t = {
    index_mb_per_s => { target => ">= 20", measured => $r{build}{mb_per_s}, met => $r{build}{mb_per_s} >= 20 },
    resync_seconds => { target => "<= 1", measured => $r{resync}{wall_seconds}, met => $r{resync}{wall_seconds} <= 1 },
    search_p50_ratio => { target => "<= 1.3 x FTS5", measured => $search->{ratio_p50}, met => $search->{ratio_p50} <= 1.3 },
    search_p99_ms => { target => "<= 10", measured => $search->{mcp}{p99_ms}, met => $search->{mcp}{p99_ms} <= 10 },
  };
  $_->{met} = $_->{met} ? JSON::PP::true : JSON::PP::false for values %$t;
  $r{targets} = $t;
  my $json = JSON::PP->new->canonical->pretty->encode(\%r);
  open(my $o, ">", "$e->{RESULTS}/latest.json") or die; print $o $json; close $o;
  printf "corpus          %d pages, %.1f MB (%d indexed, %d skipped, %d chunks; index %.0f MB)\n",
    $r{corpus}{pages}, $mb, $r{corpus}{indexed}, $r{corpus}{skipped}, $r{corpus}{chunks}, $r{corpus}{index_bytes} / 1e6;
  printf "index build     %.2f s wall (%.2f s sync): %.2f MB/s, %.0f documents/s   [target >= 20 MB/s: %s]\n",
    $r{build}{wall_seconds}, $r{build}{sync_seconds}, $r{build}{mb_per_s}, $r{build}{documents_per_s}, $t->{index_mb_per_s}{met} ? "met" : "MISSED";
  printf "no-change sync  %.3f s wall (%.3f s sync)   [target <= 1 s: %s]\n",
    $r{resync}{wall_seconds}, $r{resync}{sync_seconds}, $t->{resync_seconds}{met} ? "met" : "MISSED";
  printf "search (%d q)  MCP/HTTP p50 %.2f  p90 %.2f  p99 %.2f ms | FTS5 p50 %.2f  p90 %.2f  p99 %.2f ms\n",
    $search->{queries}, @{$search->{mcp}}{qw(p50_ms p90_ms p99_ms)}, @{$search->{fts5}}{qw(p50_ms p90_ms p99_ms)};
  printf "                p50 ratio %.3f [target <= 1.3: %s]; p99 %.2f ms [target <= 10 ms: %s]\n",
    $search->{ratio_p50}, $t->{search_p50_ratio}{met} ? "met" : "MISSED", $search->{mcp}{p99_ms}, $t->{search_p99_ms}{met} ? "met" : "MISSED";
  printf "                plain FTS5 OR query with bm25() (first %d queries): p50 %.2f  p99 %.2f ms\n",
    $search->{fts5_plain_or}{count}, @{$search->{fts5_plain_or}}{qw(p50_ms p99_ms)} if $search->{fts5_plain_or};
  printf "checks          %d MCP errors, %d first-hit mismatches, %d plan mismatches\n",
    $search->{mcp_errors}, $search->{first_hit_mismatch}, $search->{plan_mismatch};
  print "written         $e->{RESULTS}/latest.json\n";
'
