-- post_orgs.lua at a steady pace: each connection waits args[3] milliseconds before each
-- request, so the load stays below what the worker applies and the time from acceptance to
-- outcome is the pipeline's own, not a queue's.
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "post_orgs.lua")
local pause
local post_init = init

function init(args)
  post_init(args)
  pause = assert(tonumber(args[3]), "args[3]: the pause in milliseconds")
end

function delay()
  return pause
end
