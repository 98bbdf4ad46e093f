-- GET /v1/payments?page[size]=100: the first page of 100 payments.
package.path = debug.getinfo(1, "S").source:match("^@(.*/)") .. "?.lua;" .. package.path
local common = require("common")

function request()
  return wrk.format("GET", "/v1/payments?page%5Bsize%5D=100")
end

done = common.done
