-- POST /v1/payments round-robin over the documents in args[1], one per line (one per
-- organisation; no data.id: every request creates a payment). With args[2], the Location of
-- every 201 or 202 answer is written there, one per line: the created payments, or the accepted
-- commands, whose status the harness reads afterwards.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")
local bodies, next_index, out

function init(args)
  bodies = common.read_lines(args[1])
  next_index = 0
  if args[2] then out = assert(io.open(args[2], "w")) end
end

function request()
  next_index = next_index % #bodies + 1
  return wrk.format("POST", "/v1/payments", { ["Content-Type"] = "application/json" }, bodies[next_index])
end

-- Defined whether or not ids are kept, so both write modes pay wrk the same per answer. The
-- file is flushed when wrk exits.
function response(status, headers)
  if out and (status == 201 or status == 202) then
    local location = headers["location"] or headers["Location"]
    if location then out:write(location, "\n") end
  end
end

done = common.done
