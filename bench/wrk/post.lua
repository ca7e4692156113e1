-- wrk script for bench/run: POST with a body of BODY_SIZE bytes (default 4096)
local size = tonumber(os.getenv("BODY_SIZE") or "4096")
wrk.method = "POST"
wrk.body = string.rep("p", size)
wrk.headers["Content-Type"] = "application/octet-stream"
