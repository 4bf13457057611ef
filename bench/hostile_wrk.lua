-- wrk script of bench/hostile.py: each thread stops after its share of requests (the first script
-- argument) and says so on stdout, so the script can end the run with SIGINT (wrk itself only stops
-- at -d); answers that are not 2xx are counted, and done() prints one JSON line the script parses.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  limit = tonumber(args[1])
  answered = 0
  non2xx = 0
end

function response(status, headers, body)
  answered = answered + 1
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
  if answered == limit then
    io.write("HOSTILE_THREAD_DONE\n")
    io.stdout:flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total_answered, total_non2xx = 0, 0
  for _, thread in ipairs(threads) do
    total_answered = total_answered + thread:get("answered")
    total_non2xx = total_non2xx + thread:get("non2xx")
  end
  local e = summary.errors
  io.write(string.format(
    'HOSTILE_WRK {"answered": %d, "non2xx": %d, "duration_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    total_answered, total_non2xx, summary.duration, latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
