-- wrk script: the request shape comes from the environment; done() prints one machine-readable line
math.randomseed(os.time())
--   RESULT <requests> <req/s> <p50 ms> <p95 ms> <p99 ms> <non-2xx> <socket errors>
-- BENCH_METHOD (GET), BENCH_BODY_FILE or BENCH_BODY (JSON body, sent as application/json),
-- BENCH_HEADER_1..3 ("Name: value").
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
elseif (os.getenv("BENCH_BODY") or "") ~= "" then  -- inline body (older callers)
  wrk.body = os.getenv("BENCH_BODY")
  wrk.headers["Content-Type"] = "application/json"
end
for i = 1, 3 do
  local header = os.getenv("BENCH_HEADER_" .. i)
  if header and header ~= "" then
    local name, value = header:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
end

-- BENCH_UPLOAD_BYTES: POST a multipart upload (field "file") of that many bytes, unique per
-- request (a per-thread counter in the first line), so every request stores a new file.
local upload_bytes = tonumber(os.getenv("BENCH_UPLOAD_BYTES") or "")
if upload_bytes then
  local boundary = "ParecerBenchBoundary7d1"
  local line = "lorem ipsum dolor sit amet, consectetur adipiscing elit\n"
  local filler = string.rep(line, math.ceil(upload_bytes / #line)):sub(1, upload_bytes - 64)
  local head = "--" .. boundary .. '\r\nContent-Disposition: form-data; name="file"; filename="bench.txt"'
    .. "\r\nContent-Type: text/plain\r\n\r\n"
  local tail = "\r\n--" .. boundary .. "--\r\n"
  wrk.headers["Content-Type"] = "multipart/form-data; boundary=" .. boundary
  local sent = 0
  request = function()
    sent = sent + 1
    local unique = string.format("%-63s\n", string.format("bench %s %d %d", tostring(thread_id), sent, os.time()))
    return wrk.format(nil, nil, nil, head .. unique .. filler .. tail)
  end
end

-- wrk's own summary.errors.status counts only >= 400; count every non-2xx per thread instead.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_id", #threads .. "-" .. math.random(1000000000))
end

function init(args)
  non2xx = 0
  first_bad = ""
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
    if first_bad == "" then first_bad = status .. " " .. (body or ""):sub(1, 200):gsub("%s+", " ") end
  end
end

function done(summary, latency, requests)
  local bad, sample = 0, ""
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("non2xx")
    local s = thread:get("first_bad")
    if sample == "" and s and s ~= "" then sample = s end
  end
  local e = summary.errors
  io.write(string.format("RESULT %d %.1f %.2f %.2f %.2f %d %d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    bad, e.connect + e.read + e.write + e.timeout))
  if sample ~= "" then io.write("FIRST_NON2XX " .. sample .. "\n") end
end
