-- wrk script: POST /v1/reports with a fresh client_request_id and a spread-out point
-- per request, so every request is a new report (as grpc_load --call=submit does).
-- Each wrk thread numbers its requests from its own offset.
-- Seeded per run: wrk's Lua would otherwise draw the same offsets every time, and a
-- later run would resend earlier client_request_ids, answered as cheap replays.
math.randomseed(os.time())
local threads = {}
function setup_thread(thread) table.insert(threads, thread) end
local counter = 0
-- A global, not a local: setup() sets it in each thread's state with thread:set, which
-- a local of the same name would hide (both threads would then send the same reports).
offset = 0

function setup(thread)
  thread:set("offset", math.random(1, 1000000000))
  setup_thread(thread)
end

request = function()
  counter = counter + 1
  local n = offset + counter
  local lat = 10.76 + (n % 1000) * 0.0007
  local lon = 106.66 + (math.floor(n / 1000) % 100) * 0.0007
  local body = string.format(
    '{"category":"environment.blocked_drain","description":"Cống nghẹt, nước tràn ra đường (benchmark)",' ..
    '"location":{"lat":%.6f,"lon":%.6f},"client_request_id":"bench-http-%d"}', lat, lon, n)
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["X-Device-Id"] = "bench-device-" .. (n % 64)
  return wrk.format("POST", "/v1/reports", headers, body)
end

-- The first failure's body, printed at the end so a failed run says why.

response = function(status, headers, body)
  if status >= 300 and failure == nil then failure = status .. " " .. body end
end

function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    local f = t:get("failure")
    if f then print("first failure: " .. f) return end
  end
end
