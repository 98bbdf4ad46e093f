-- GET /v1/payments/{id}, round-robin over the ids in args[1]; with args[2], that bearer token.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local ids, next_index

function init(args)
  ids = common.read_lines(args[1])
  next_index = 0
  if args[2] then
    wrk.headers["Authorization"] = "Bearer " .. args[2]
  end
end

function request()
  next_index = next_index % #ids + 1
  return wrk.format("GET", "/v1/payments/" .. ids[next_index])
end

done = common.done
