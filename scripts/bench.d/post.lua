-- wrk script: each thread (one connection) posts signaling messages from its own sender to its
-- own recipient, numbered 1, 2, 3... so the driver can check afterwards that every message that
-- was answered 202 reached the recipient exactly once.
--
-- Arguments after "--": one "room,peer,token,recipient" per thread, in thread order.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local candidate = "candidate:842163049 1 udp 1677729535 192.0.2.10 54321 typ srflx raddr 10.0.0.2 rport 54321 generation 0 ufrag Xb3k network-cost 999"

function init(args)
  local spec = args[id + 1]
  local room, peer, token, to = spec:match("^([^,]+),([^,]+),([^,]+),([^,]+)$")
  path = wrk.path .. "?mode=post&room=" .. room .. "&peer=" .. peer .. "&token=" .. token
  recipient = to
  sent = 0
  responses = 0
  first_answered = 0
  last_answered = 0
  -- The numbers of the posts that were not answered 202, comma-separated (normally empty).
  rejected_n = ""
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  sent = sent + 1
  local body = string.format(
    '{"to":"%s","type":"bench","data":{"n":%d,"c":%d,"candidate":"%s","sdpMid":"0","sdpMLineIndex":0}}',
    recipient, sent, id, candidate)
  return wrk.format("POST", path, headers, body)
end

-- One connection per thread and no pipelining: a response answers the request generated last
-- (wrk generates the next one only after it). Numbers are not assumed to start at 1: wrk calls
-- request() once more on the first thread to check the script, and that one is never sent.
function response(status, headers, body)
  responses = responses + 1
  if first_answered == 0 then
    first_answered = sent
  end
  last_answered = sent
  if status ~= 202 then
    if #rejected_n < 4000 then
      rejected_n = rejected_n .. (#rejected_n > 0 and "," or "") .. sent
    end
  end
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("BENCH thread=%d sent=%d responses=%d first=%d last=%d rejected_n=%s\n",
      thread:get("id"), thread:get("sent"), thread:get("responses"), thread:get("first_answered"),
      thread:get("last_answered"), thread:get("rejected_n")))
  end
  local errors = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_us=%d connect=%d read=%d write=%d timeout=%d status=%d p50=%d p90=%d p99=%d\n",
    summary.requests, summary.duration, errors.connect, errors.read, errors.write, errors.timeout,
    errors.status, latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
