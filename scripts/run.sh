#!/usr/bin/env bash
# Installs what is missing, builds mcpd (release) and starts it on embedded defaults:
# MCP over Streamable HTTP on http://127.0.0.1:8000/mcp. Extra arguments go to `mcpd serve`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" release
exec "$root/build/release/mcpd" serve "$@"
