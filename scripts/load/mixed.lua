-- Mixed payment traffic for wrk: each payment a thread creates is updated once and deleted
-- once, so the stored set stays bounded (memory must plateau), and no two requests race on one
-- payment (every status other than the expected one is an error, none are "expected" 409s).
--
-- Per 20 requests: 2 creates, 2 updates, 2 deletes, 2 filtered lists, 12 reads of seeded
-- payments. Seeded ids come from the file named by SOAK_IDS (one per line); SOAK_ORG is their
-- organisation.

local cycle = {
  "post", "get", "get", "put", "get", "list", "get", "delete", "get", "get",
  "post", "get", "put", "get", "list", "get", "delete", "get", "get", "get",
}
local expected = { post = 201, get = 200, put = 200, delete = 204, list = 200 }

local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  seeded = {}
  for line in io.lines(os.getenv("SOAK_IDS")) do
    table.insert(seeded, line)
  end
  organisation = os.getenv("SOAK_ORG")
  fresh, updated = {}, {}
  step, sent, errors, by_status = 0, 0, 0, {}
  headers = { ["Content-Type"] = "application/json" }
  math.randomseed(id * 7919)
end

local function document(amount, version)
  local v = version and string.format('"version":%d,', version) or ""
  return string.format(
    '{"data":{%s"organisation_id":"%s","attributes":{"amount":"%s","currency":"GBP",' ..
    '"payment_scheme":"FPS","reference":"soak","beneficiary_party":{"account_name":"W Owens",' ..
    '"account_number":"31926819"},"tags":["a","b",{"n":%d}]}}}',
    v, organisation, amount, math.random(1, 1000000))
end

function request()
  step = step % #cycle + 1
  local kind = cycle[step]
  if kind == "put" and #fresh == 0 then kind = "get" end
  if kind == "delete" and #updated == 0 then kind = "get" end
  sent = sent + 1
  if kind == "post" then
    return wrk.format("POST", "/v1/payments", headers, document(string.format("%d.%02d", math.random(1, 9999), math.random(0, 99))))
  elseif kind == "put" then
    local target = table.remove(fresh, 1)
    return wrk.format("PUT", "/v1/payments/" .. target, headers, document("1.00", 0))
  elseif kind == "delete" then
    local target = table.remove(updated, 1)
    return wrk.format("DELETE", "/v1/payments/" .. target .. "?version=1")
  elseif kind == "list" then
    return wrk.format("GET", "/v1/payments?filter%5Borganisation_id%5D=" .. organisation .. "&page%5Bsize%5D=20")
  end
  return wrk.format("GET", "/v1/payments/" .. seeded[math.random(#seeded)])
end

function response(status, headers, body)
  by_status[status] = (by_status[status] or 0) + 1
  -- A payment moves on only once its previous step is acknowledged: created (201, version 0)
  -- → updated (200 with version 1; seeded payments are never updated, so stay at 0) → deleted.
  if status == 201 or (status == 200 and string.sub(body, 1, 9) == '{"data":{') then
    local id = string.match(body, '"id":"([0-9a-f%-]+)"')
    local version = tonumber(string.match(body, '"version":(%d+)'))
    if id and status == 201 then table.insert(fresh, id) end
    if id and status == 200 and version == 1 then table.insert(updated, id) end
  end
  if status ~= 200 and status ~= 201 and status ~= 204 then
    errors = errors + 1
    if errors <= 5 then io.stderr:write("unexpected ", status, ": ", body, "\n") end
  end
end

function done(summary, latency, requests)
  local total_errors, statuses = 0, {}
  for _, thread in ipairs(threads) do
    total_errors = total_errors + thread:get("errors")
    for status, count in pairs(thread:get("by_status")) do
      statuses[status] = (statuses[status] or 0) + count
    end
  end
  local socket = summary.errors
  io.write("SOAK requests=", summary.requests,
    " duration_s=", string.format("%.1f", summary.duration / 1e6),
    " rps=", string.format("%.0f", summary.requests / (summary.duration / 1e6)),
    " status_errors=", total_errors,
    " socket_errors=", socket.connect + socket.read + socket.write + socket.timeout,
    " non2xx=", socket.status,
    " p50_ms=", string.format("%.2f", latency:percentile(50) / 1000),
    " p99_ms=", string.format("%.2f", latency:percentile(99) / 1000),
    " p999_ms=", string.format("%.2f", latency:percentile(99.9) / 1000),
    " max_ms=", string.format("%.2f", latency.max / 1000), "\n")
  local keys = {}
  for status in pairs(statuses) do table.insert(keys, status) end
  table.sort(keys)
  for _, status in ipairs(keys) do
    io.write("SOAK status ", status, " ", statuses[status], "\n")
  end
end
