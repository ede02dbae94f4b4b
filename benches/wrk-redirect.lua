-- wrk script of the redirect benchmarks (scripts/bench-redirect, scripts/bench-instances).
-- BENCH_AGENTS: a file of `human <agent>` / `bot <agent>` lines; each thread sends them in
-- turn, one per request, starting at a different line (requests are built once, up front).
-- BENCH_DELAY_MS: paced load, the mean wait of each connection between requests.
-- At the end it prints one `BENCH key=value ...` line for the scripts to read.
local agents_file = os.getenv("BENCH_AGENTS") or ""
local requests_by_agent = {}
local next_request = 0
thread_index = 0
setup = function(thread)
  thread:set("thread_index", thread_index)
  thread_index = thread_index + 1
end
init = function(args)
  if agents_file == "" then return end
  for line in io.lines(agents_file) do
    local agent = line:match("^human (.+)$") or line:match("^bot (.+)$")
    if agent then
      requests_by_agent[#requests_by_agent + 1] = wrk.format(nil, nil, { ["User-Agent"] = agent })
    end
  end
  next_request = (thread_index * 197) % #requests_by_agent
  request = function()
    next_request = next_request % #requests_by_agent + 1
    return requests_by_agent[next_request]
  end
end
local pace = tonumber(os.getenv("BENCH_DELAY_MS") or "")
if pace then
  local whole = math.floor(pace)
  local part = pace - whole
  delay = function()
    if math.random() < part then return whole + 1 end
    return whole
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f " ..
    "connect=%d read=%d write=%d status=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
