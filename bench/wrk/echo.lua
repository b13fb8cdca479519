-- wrk script: POST a JSON-RPC `tools/call` of the `echo` tool to an MCP Streamable HTTP endpoint.
--
--   wrk -t1 -c50 -d10s -s bench/wrk/echo.lua \
--       -H 'Mcp-Session-Id: <id>' -H 'MCP-Protocol-Version: 2025-11-25' http://127.0.0.1:PORT/mcp
--
-- Content-Type and Accept are set here (Accept: application/json, text/event-stream);
-- the session headers come from -H. Each request carries a fresh JSON-RPC id (servers track
-- in-flight requests by id, so ids must not repeat while in flight).
--
-- Environment:
--   ECHO_MESSAGE     the message to echo (default "hello")
--   ECHO_CHECK_BODY  1 (default): every response is inspected: non-2xx statuses and 2xx bodies
--                    that are not a JSON-RPC result (or are an isError tool result) are counted
--                    as failures. 0: only wrk's own error counters (connect/read/write/timeout
--                    and status >= 400) are reported; slightly cheaper for wrk.
--
-- done() prints one JSON line starting with {"wrk_echo": ...} with requests/s, latency
-- percentiles (ms) and the failure counts; "ok" is false when any request failed.

local message = os.getenv("ECHO_MESSAGE") or "hello"
local check_body = (os.getenv("ECHO_CHECK_BODY") or "1") ~= "0"

local threads = {}
local head        -- request line + headers, without Content-Length
local body_prefix = '{"jsonrpc":"2.0","id":'
local body_suffix

local function json_string(s)
  return '"' .. s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' elseif c == '\\' then return '\\\\' end
    return string.format('\\u%04x', c:byte())
  end) .. '"'
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  non2xx = 0
  bad_body = 0
  responses = 0
  body_suffix = ',"method":"tools/call","params":{"name":"echo","arguments":{"message":' .. json_string(message) .. '}}}'
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json, text/event-stream"
  local lines = { string.format("%s %s HTTP/1.1", "POST", wrk.path) }
  for name, value in pairs(wrk.headers) do
    if name:lower() ~= "content-length" then
      lines[#lines + 1] = name .. ": " .. value
    end
  end
  head = table.concat(lines, "\r\n") .. "\r\n"
end

function request()
  counter = counter + 1
  local body = body_prefix .. counter .. body_suffix
  return head .. "Content-Length: " .. #body .. "\r\n\r\n" .. body
end

if check_body then
  function response(status, headers, body)
    responses = responses + 1
    if status < 200 or status > 299 then
      non2xx = non2xx + 1
    elseif not body:find('"result"', 1, true) or body:find('"isError":true', 1, true) then
      bad_body = bad_body + 1
    end
  end
end

function done(summary, latency, requests)
  local non2xx_total, bad_total, checked = 0, 0, 0
  for _, t in ipairs(threads) do
    non2xx_total = non2xx_total + (t:get("non2xx") or 0)
    bad_total = bad_total + (t:get("bad_body") or 0)
    checked = checked + (t:get("responses") or 0)
  end
  local e = summary.errors
  local seconds = summary.duration / 1e6
  local socket_errors = e.connect + e.read + e.write + e.timeout
  -- Without body checks, wrk's own status counter (status >= 400) stands in for non-2xx.
  if not check_body then non2xx_total = e.status end
  local failed = non2xx_total + bad_total + socket_errors
  local function ms(us) return us / 1000 end
  io.write(string.format(
    '{"wrk_echo":{"requests":%d,"seconds":%.3f,"requests_per_sec":%.1f,' ..
    '"ok_per_sec":%.1f,"bytes":%d,' ..
    '"latency_ms":{"p50":%.3f,"p90":%.3f,"p99":%.3f,"p999":%.3f,"max":%.3f,"mean":%.3f,"stdev":%.3f},' ..
    '"non2xx":%d,"bad_body":%d,"body_checked":%s,"responses_checked":%d,' ..
    '"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},"wrk_status_errors":%d,' ..
    '"failed":%d,"ok":%s}}\n',
    summary.requests, seconds, summary.requests / seconds,
    (summary.requests - non2xx_total - bad_total) / seconds, summary.bytes,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency:percentile(99.9)), ms(latency.max), ms(latency.mean), ms(latency.stdev),
    non2xx_total, bad_total, tostring(check_body), checked,
    e.connect, e.read, e.write, e.timeout, e.status,
    failed, tostring(failed == 0 and summary.requests > 0)))
end
