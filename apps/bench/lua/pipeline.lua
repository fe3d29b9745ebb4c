-- 16 GET /hello requests sent back to back on each connection (HTTP/1.1 pipelining).
local depth = 16
local req
init = function(args)
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format("GET", "/hello")
  end
  req = table.concat(r)
end
request = function()
  return req
end
