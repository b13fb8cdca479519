# Shared by the benchmark scripts (bench/knowledge, bench/embedding, bench/quality): source it
# after defining log() and WAIT_IDLE.

# "busy idle" jiffies of all CPUs.
cpu_jiffies() { awk '$1 == "cpu" {print $2+$3+$4+$7+$8+$9, $5+$6}' /proc/stat; }

# Percent busy between two cpu_jiffies samples.
busy_pct() {
  awk -v a="$1" -v b="$2" 'BEGIN{split(a,x," "); split(b,y," "); bz=y[1]-x[1]; id=y[2]-x[2]; t=bz+id; printf "%.1f", (t > 0 ? 100*bz/t : 0)}'
}

# Waits up to WAIT_IDLE seconds for the machine to be >= 90% idle over 2 s; prints the busy share
# last seen ("null" when WAIT_IDLE is 0).
wait_idle() {
  local deadline=$((SECONDS + WAIT_IDLE)) a b pct
  (( WAIT_IDLE == 0 )) && { echo null; return; }
  while :; do
    a=$(cpu_jiffies); sleep 2; b=$(cpu_jiffies)
    pct=$(busy_pct "$a" "$b")
    if awk -v p="$pct" 'BEGIN{exit !(p <= 10)}' || (( SECONDS >= deadline )); then break; fi
    log "machine busy (${pct}% of all CPUs); waiting (up to ${WAIT_IDLE}s in all)"
  done
  echo "$pct"
}

# UNSET: `env` arguments that drop what would add sources, keys or an embedding provider to mcpd
# (the benchmarks configure those themselves).
UNSET=(-u API_TOKEN -u GH_REPOS -u GH_PAT -u GH_WEBHOOK_SECRET -u OPENAI_API_KEY)
for _v in $(compgen -e); do if [[ $_v == MCP_* || $_v == EMBED_* ]]; then UNSET+=(-u "$_v"); fi; done
unset _v
