-- scripts/bench/latency.lua: post.lua's request (the file named by
-- $BENCH_BODY, Content-Type $BENCH_CTYPE), and at the end one line with
-- wrk's latency percentiles in microseconds, for the bench's accuracy check:
--   wrk-latency-us p50 P50 p99 P99 mean MEAN requests N
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "post.lua")

done = function(summary, latency, requests)
  io.write(string.format("wrk-latency-us p50 %d p99 %d mean %.1f requests %d\n",
    latency:percentile(50), latency:percentile(99), latency.mean, summary.requests))
end
