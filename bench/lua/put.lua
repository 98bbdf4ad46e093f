-- PUT /v1/payments/{id} round-robin over the ids in args[1] (all at version 0 at the start),
-- with the template in args[2] (__ID__ and __VERSION__ filled in per request).
-- Versions are tracked per id: the pool is much larger than the connection count, so a request
-- for an id is answered long before the same id comes round again with the next version.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local ids, versions, template, next_index, verified

-- wrk calls request() once before any connection opens, to inspect the request (see
-- script_verify_request in wrk.c); that request is never sent, so it must not use up a version.

function init(args)
  ids = common.read_lines(args[1])
  template = common.read_file(args[2])
  versions = {}
  for i = 1, #ids do versions[i] = 0 end
  next_index = 0
  verified = false
end

function request()
  if not verified then
    verified = true
    return wrk.format("PUT", "/v1/payments/" .. ids[1], { ["Content-Type"] = "application/json" }, "")
  end
  next_index = next_index % #ids + 1
  local id, version = ids[next_index], versions[next_index]
  versions[next_index] = version + 1
  local body = template:gsub("__ID__", id):gsub("__VERSION__", tostring(version))
  return wrk.format("PUT", "/v1/payments/" .. id, { ["Content-Type"] = "application/json" }, body)
end

done = common.done
