-- wrk script: the GET routes a blog page makes, pre-built like hits.lua (64 pages x 8
-- browsers, no per-request work in wrk). BENCH_ROUTE picks the route:
--   busuanzi  GET /busuanzi?jsonpCallback=cb with the page in the Referer (counts a view)
--   pixel     GET /count.gif?site=...&url=... (counts a view)
--   counters  GET /api/v1/counters/SITE?path=/posts/N (reads)
--   badge     GET /badge/SITE.svg?path=/posts/N&label=views (reads)
-- BENCH_SITE (the site id) and BENCH_HOST (its domain) come from the environment.
local site = os.getenv("BENCH_SITE") or "abcdefghijkl"
local host = os.getenv("BENCH_HOST") or "bench.example"
local route = os.getenv("BENCH_ROUTE") or "busuanzi"
local agents = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
  "Mozilla/5.0 (iPad; CPU OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
}
local requests = {}
local counter = 0

local function path_for(i)
  local page = "/posts/" .. (i % 64)
  if route == "busuanzi" then
    return "/busuanzi?jsonpCallback=cb"
  elseif route == "pixel" then
    return string.format("/count.gif?site=%s&url=https%%3A%%2F%%2F%s%%2Fposts%%2F%d", site, host, i % 64)
  elseif route == "counters" then
    return "/api/v1/counters/" .. site .. "?path=" .. page
  elseif route == "badge" then
    return "/badge/" .. site .. ".svg?path=" .. page .. "&label=views"
  end
  error("unknown BENCH_ROUTE " .. route)
end

init = function(args)
  for i = 0, 511 do
    requests[#requests + 1] = wrk.format("GET", path_for(i), {
      ["User-Agent"] = agents[(i % #agents) + 1],
      ["Referer"] = string.format("https://%s/posts/%d", host, i % 64),
    })
  end
end

request = function()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

-- One machine-readable line after wrk's report (parsed by bench/harness.py).
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("BENCH requests=%d duration_us=%d errors=%d non2xx=%d p50_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, errors, summary.errors.status,
    latency:percentile(50), latency:percentile(99), latency.max))
end
