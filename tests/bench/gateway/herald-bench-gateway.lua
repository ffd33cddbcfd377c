-- herald-bench-gateway.lua — the wrk script herald-bench-gateway runs for
-- every case. The mode comes from the environment, read at load time,
-- because wrk decides once, from the script's top level, whether requests
-- are static (built once by wrk, no Lua per request) or dynamic (a Lua
-- `request` function called for every request):
--   HERALD_BENCH_MODE=static  the URL's GET, built once (floor, /ping,
--                             webdis's /PING)
--   HERALD_BENCH_MODE=get     GET <the URL's path><id>, cycling over the ids
--                             in HERALD_BENCH_IDS (one per line), each
--                             thread from its own offset; the path is the
--                             prefix (/events/ for Herald and the floor,
--                             /GET/ for webdis); requests are formatted
--                             once in init, request() only returns them
--   HERALD_BENCH_MODE=post    POST to the URL's path (/events), JSON body
--                             for a new event, Content-Type set (static:
--                             one user_id, one description)
--   HERALD_BENCH_MODE=put     PUT to the URL's path, an event-sized JSON
--                             body (the floor's event, event_json.h),
--                             Content-Type set (static): webdis's
--                             PUT /SET/<key>, the body as the value
--   HERALD_BENCH_MODE=mixed   the soak mix, cycled: creates, reads, updates,
--                             lists, /ping, a 404 and a 422 (ids as for get)
-- Every mode prints one machine-readable line from done():
--   HERALD_WRK requests=N duration_us=N p50_us=N p90_us=N p99_us=N max_us=N
--              connect=N read=N write=N status=N timeout=N
-- (status counts responses >= 400, as wrk does.)

local mode = os.getenv("HERALD_BENCH_MODE") or "static"
local ids_path = os.getenv("HERALD_BENCH_IDS")

local POST_BODY = '{"user_id":"u-bench-0042","description":"Your order #1234 has shipped"}'
local JSON = { ["Content-Type"] = "application/json" }
-- The floor's event (tests/bench/gateway/event_json.h), 220 bytes.
local EVENT = '{"event_id":"5f0c2a7e-8d1b-4c3a-9e6f-1a2b3c4d5e6f","user_id":"u-bench-0042",'
   .. '"description":"Your order #1234 has shipped","status":"pending",'
   .. '"created_at":"2026-11-24T10:00:00.123Z","updated_at":"2026-11-24T10:00:00.123Z"}'

local function read_ids()
   local ids = {}
   local f = assert(io.open(ids_path, "r"), "cannot open " .. tostring(ids_path))
   for line in f:lines() do
      if #line > 0 then
         ids[#ids + 1] = line
      end
   end
   f:close()
   assert(#ids > 0, "no ids in " .. ids_path)
   return ids
end

if mode == "post" or mode == "put" then
   -- wrk.path stays the URL's: the driver names the path.
   wrk.method = mode == "post" and "POST" or "PUT"
   wrk.body = mode == "post" and POST_BODY or EVENT
   wrk.headers["Content-Type"] = "application/json"
elseif mode == "get" or mode == "mixed" then
   local requests, next_index

   -- Threads are created one after another; a counter in the main state
   -- gives each its own starting offset.
   local thread_count = 0
   function setup(thread)
      thread:set("thread_index", thread_count)
      thread_count = thread_count + 1
   end

   function init(args)
      local ids = read_ids()
      requests = {}
      if mode == "get" then
         -- Each thread's state has wrk.path from the URL: the prefix.
         local prefix = wrk.path
         for i = 1, #ids do
            requests[i] = wrk.format("GET", prefix .. ids[i])
         end
      else
         local missing = "00000000-0000-4000-8000-000000000000"
         for i = 1, #ids do
            local id = ids[i]
            local k = i % 8
            if k == 0 then
               requests[#requests + 1] = wrk.format("POST", "/events", JSON, POST_BODY)
            elseif k == 1 or k == 2 then
               requests[#requests + 1] = wrk.format("GET", "/events/" .. id)
            elseif k == 3 then
               requests[#requests + 1] =
                  wrk.format("PUT", "/events/" .. id, JSON, '{"status":"processed"}')
            elseif k == 4 then
               requests[#requests + 1] = wrk.format("GET", "/events?limit=10")
            elseif k == 5 then
               requests[#requests + 1] = wrk.format("GET", "/ping")
            elseif k == 6 then
               requests[#requests + 1] = wrk.format("GET", "/events/" .. missing)
            else
               requests[#requests + 1] =
                  wrk.format("POST", "/events", JSON, '{"user_id":"","extra":1}')
            end
         end
      end
      next_index = ((thread_index or 0) * 7919) % #requests + 1
   end

   function request()
      local r = requests[next_index]
      next_index = next_index % #requests + 1
      return r
   end
end

function done(summary, latency, requests_)
   local e = summary.errors
   io.write(string.format(
      "HERALD_WRK requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d "
         .. "connect=%d read=%d write=%d status=%d timeout=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
      latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
