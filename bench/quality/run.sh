#!/usr/bin/env bash
# Ranking quality of search_documents on a known-item set (see docs/benchmarks/ranking.md):
#
#   bench/quality/run.sh                 # 500 items among 3,000 pages
#   KB_ITEMS=1000 KB_PAGES=6000 bench/quality/run.sh
#
# 1. the man page corpus of bench/knowledge/run.sh (run that first: it installs the pages and
#    decompresses them into bench/results/knowledge/corpus);
# 2. items: a page and its NAME-line description, for descriptions exactly one page has
#    (bench/knowledge/name_queries.pl --known-items), in a fixed pseudo-random order;
# 3. a sample of KB_PAGES pages (the items' pages, then others in a fixed pseudo-random order),
#    copied with every page's NAME section removed (embedding every chunk of all 21,000 pages
#    would take half an hour on two cores);
# 4. `mcpd kb sync` of the copy with the built-in use-lite embeddings (every chunk is embedded:
#    several minutes on two cores);
# 5. kb_ranking_quality: each description as the query in lexical, semantic and hybrid mode,
#    the page as the relevant document: MRR@10 and recall@10; bench/results/quality/latest.json.
# Environment: KB_ITEMS (500), KB_PAGES (3000), KB_FUSIONS ("convex rrf"), KB_SEMANTIC_WEIGHTS ("1 0.5 0.25": the hybrid's
# semantic weight against a lexical weight of 1, one run each), BENCH_SKIP_BUILD=1, BENCH_BUILD_DIR (build/kbbench), KB_KEEP=1.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
ITEMS=${KB_ITEMS:-500}
WEIGHTS=(${KB_SEMANTIC_WEIGHTS:-1 0.5 0.25})
FUSIONS=(${KB_FUSIONS:-convex rrf})
WEIGHT_ARGS=()
for f in "${FUSIONS[@]}"; do
  [[ $f == convex || $f == rrf ]] || { echo "run.sh: KB_FUSIONS must list convex and/or rrf" >&2; exit 2; }
  WEIGHT_ARGS+=(--fusion "$f")
done
for w in "${WEIGHTS[@]}"; do
  [[ $w =~ ^[0-9]+(\.[0-9]+)?$ ]] || { echo "run.sh: KB_SEMANTIC_WEIGHTS must be numbers" >&2; exit 2; }
  WEIGHT_ARGS+=(--semantic-weight "$w")
done
PAGES=${KB_PAGES:-3000}
[[ $ITEMS =~ ^[0-9]+$ ]] && (( ITEMS >= 1 && ITEMS <= 100000 )) || { echo "run.sh: KB_ITEMS must be 1..100000" >&2; exit 2; }
[[ $PAGES =~ ^[0-9]+$ ]] && (( PAGES >= ITEMS && PAGES <= 100000 )) || { echo "run.sh: KB_PAGES must be KB_ITEMS..100000" >&2; exit 2; }
BUILD_DIR=${BENCH_BUILD_DIR:-$ROOT/build/kbbench}
SOURCE=$ROOT/bench/results/knowledge/corpus
RESULTS=$ROOT/bench/results/quality
MODEL=$ROOT/models/use-lite
log() { echo "[quality] $*" >&2; }
source "$ROOT/bench/lib/common.sh"  # UNSET

[[ -d $SOURCE ]] || { echo "run.sh: no corpus at $SOURCE: run bench/knowledge/run.sh first" >&2; exit 2; }
"$ROOT/scripts/fetch-model.sh"
if [[ ${BENCH_SKIP_BUILD:-0} != 1 ]]; then
  log "building mcpd and kb_ranking_quality in $BUILD_DIR"
  cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMCPD_BUILD_TESTS=ON > /dev/null
  cmake --build "$BUILD_DIR" --target mcpd kb_ranking_quality > /dev/null
fi
mkdir -p "$RESULTS"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kb-quality.XXXXXX")
cleanup() { if [[ ${KB_KEEP:-0} == 1 ]]; then log "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT

# ---- 2. items ----
perl "$ROOT/bench/knowledge/name_queries.pl" --known-items "$SOURCE" "$ITEMS" > "$WORK/items.tsv"
log "items: $(wc -l < "$WORK/items.tsv") pages with a description of their own"
cp "$WORK/items.tsv" "$RESULTS/items.tsv"

# ---- 3. the sample, without NAME sections (.SH NAME / .Sh NAME up to the next section) ----
log "copying $PAGES pages without their NAME sections"
rm -rf "$RESULTS/corpus"
SRC=$SOURCE OUT=$RESULTS/corpus ITEMS_FILE=$WORK/items.tsv PAGES=$PAGES perl -MFile::Find -MFile::Path=make_path -MDigest::MD5=md5_hex -e '
  my ($src, $out, $pages) = @ENV{qw(SRC OUT PAGES)};
  open(my $it, "<", $ENV{ITEMS_FILE}) or die; my %item = map { (split /\t/)[0] => 1 } <$it>; close $it;
  my @all;
  find({ no_chdir => 1, wanted => sub { push @all, substr($_, length($src) + 1) if -f $_ } }, $src);
  my @others = sort { md5_hex($a) cmp md5_hex($b) } grep { !$item{$_} } @all;
  my @take = ((grep { $item{$_} } @all), @others);
  splice(@take, $pages) if @take > $pages;
  for my $rel (@take) {
    (my $dir = "$out/$rel") =~ s{/[^/]*\z}{};
    make_path($dir);
    open(my $in, "<:raw", "$src/$rel") or die "$rel: $!";
    open(my $o, ">:raw", "$out/$rel") or die "$out/$rel: $!";
    my $skip = 0;
    while (my $line = <$in>) {
      if ($line =~ /^[.\x27]\s*S[Hh]\s+"?([^"\r\n]*?)"?\s*$/) { $skip = uc($1) eq "NAME"; }
      print $o $line unless $skip;
    }
  }'

# ---- 4. index with embeddings ----
cat > "$WORK/kb.toml" <<TOML
[server]
data_dir = "$WORK/data"
[packs.knowledge]
index = "$WORK/data/kb.db"
sync_on_start = false
[packs.knowledge.embeddings]
provider = "use-lite"
model_dir = "$MODEL"
[[packs.knowledge.sources]]
name = "man"
type = "directory"
path = "$RESULTS/corpus"
TOML
log "mcpd kb sync with use-lite embeddings (every chunk; minutes)"
t0=$(date +%s.%N)
env "${UNSET[@]}" "$BUILD_DIR/mcpd" kb sync --config "$WORK/kb.toml" > "$WORK/sync.json" 2> "$WORK/sync.err" ||
  { cat "$WORK/sync.err" >&2; echo "run.sh: kb sync failed" >&2; exit 1; }
t1=$(date +%s.%N)
export SYNC_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b - a}')
export EMBEDDED=$(perl -MJSON::PP -e 'local $/; print decode_json(<STDIN>)->{results}[0]{embedded}' < "$WORK/sync.json")
log "indexed and embedded $EMBEDDED chunks in $SYNC_SECONDS s"

# ---- 5. ranking quality ----
"$BUILD_DIR/bench/kb_ranking_quality" --db "$WORK/data/kb.db" --model "$MODEL" --items "$WORK/items.tsv" \
  --max-items "$ITEMS" "${WEIGHT_ARGS[@]}" > "$WORK/quality.json"
export WORK RESULTS GIT_REV=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
perl -MJSON::PP -e '
  my $e = \%ENV; local $/;
  open(my $f, "<", "$e->{WORK}/quality.json") or die; my $q = decode_json(<$f>); close $f;
  $q->{git} = $e->{GIT_REV}; $q->{date} = scalar(gmtime) . " UTC";
  $q->{index} = { embedded_chunks => 0 + $e->{EMBEDDED}, sync_seconds => 0 + $e->{SYNC_SECONDS} };
  open(my $o, ">", "$e->{RESULTS}/latest.json") or die; print $o JSON::PP->new->canonical->pretty->encode($q); close $o;
  printf "items %d; %d chunks embedded in %.1f s\n", $q->{items}, $q->{index}{embedded_chunks}, $q->{index}{sync_seconds};
  my @modes = ("lexical", "semantic", sort grep { /^hybrid/ } keys %$q);
  printf "%-22s MRR\@10 %.4f  recall\@10 %.4f  (halves: %.4f, %.4f)\n", $_, $q->{$_}{mrr_at_10}, $q->{$_}{recall_at_10},
    $q->{$_}{first_half}{mrr_at_10}, $q->{$_}{second_half}{mrr_at_10} for @modes;
  for my $h (grep { /^hybrid/ } @modes) {
    printf "%s beats lexical: %s\n", $h, $q->{$h}{mrr_at_10} > $q->{lexical}{mrr_at_10} ? "yes" : "NO";
  }
  print "written $e->{RESULTS}/latest.json\n";'
