-- scripts/bench/post.lua: wrk sends the file named by $BENCH_BODY as a POST
-- body with Content-Type $BENCH_CTYPE. No request() function, so wrk builds
-- the request once and resends the same bytes, as it does for a plain GET.
local path = assert(os.getenv("BENCH_BODY"), "set BENCH_BODY to the body file")
local f = assert(io.open(path, "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = os.getenv("BENCH_CTYPE") or "application/json"
