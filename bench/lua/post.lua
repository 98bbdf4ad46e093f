-- POST /v1/payments with the document in args[1] (no data.id: every request creates a payment).
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local body

function init(args)
  body = common.read_file(args[1])
end

function request()
  return wrk.format("POST", "/v1/payments", { ["Content-Type"] = "application/json" }, body)
end

done = common.done
