-- wrk script for the nginx ceiling: the same request shape, answered by a static 204.
wrk.method = "POST"
wrk.path = "/api/v1/hits"
wrk.headers["Content-Type"] = "text/plain"
wrk.body = '{"site":"abcdefghijkl","url":"https://bench.example/posts/1","referrer":"https://www.google.com/","title":"Post 1","screen":"1920x1080"}'

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("BENCH requests=%d duration_us=%d errors=%d non2xx=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
