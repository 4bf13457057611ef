-- wrk script of the benchmark: the scenario comes from the environment, the summary goes out as JSON.
--   BENCH_BODY_BYTES  > 0: POST a body of that many bytes (the POST 16 KiB scenario), else GET
--   BENCH_ACCEPT      the Accept field to send (application/json for the JSON echo), optional
local body_bytes = tonumber(os.getenv("BENCH_BODY_BYTES") or "0")
local accept = os.getenv("BENCH_ACCEPT")

if body_bytes > 0 then
  wrk.method = "POST"
  wrk.body = string.rep("a", body_bytes)
  wrk.headers["Content-Type"] = "application/octet-stream"
end
if accept and accept ~= "" then
  wrk.headers["Accept"] = accept
end

-- One line the benchmark parses; latencies in microseconds, duration in microseconds.
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
