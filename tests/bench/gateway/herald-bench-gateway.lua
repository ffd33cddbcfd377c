-- herald-bench-gateway.lua — the wrk script herald-bench-gateway runs for
-- every case. The mode comes from the environment, read at load time,
-- because wrk decides once, from the script's top level, whether requests
-- are static (built once by wrk, no Lua per request) or dynamic (a Lua
-- `request` function called for every request):
--   HERALD_BENCH_MODE=static  the URL's GET, built once (floor, /ping)
--   HERALD_BENCH_MODE=get     GET /events/{id}, cycling over the ids in
--                             HERALD_BENCH_IDS (one per line), each thread
--                             from its own offset; requests are formatted
--                             once in init, request() only returns them
--   HERALD_BENCH_MODE=post    POST /events, JSON body, Content-Type set
--                             (static: one user_id, one description)
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

if mode == "post" then
   wrk.method = "POST"
   wrk.path = "/events"
   wrk.body = POST_BODY
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
         for i = 1, #ids do
            requests[i] = wrk.format("GET", "/events/" .. ids[i])
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
