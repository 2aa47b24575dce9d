-- wrk script for bench/load.py: every request carries the role's session
-- cookie (BENCH_COOKIE) and the proxy's X-Forwarded-Proto (production
-- settings redirect plain http); at the end one JSON line with the figures.
local cookie = os.getenv("BENCH_COOKIE")
if cookie and cookie ~= "" then
   wrk.headers["Cookie"] = cookie
end
wrk.headers["X-Forwarded-Proto"] = "https"
wrk.headers["Accept-Language"] = "en"

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p99_us": %d, ' ..
      '"non2xx": %d, "socket_errors": %d}\n',
      summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(99),
      e.status, e.connect + e.read + e.write + e.timeout))
end
