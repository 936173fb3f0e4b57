-- wrk script: a citizen's look-up on the portal, as a browser makes it: POST "/" with a
-- random NIK + No. KK pair (answered 303 with the session cookie that holds the result's
-- reference), then GET "/hasil" with that cookie (the result page).
--
-- Driven by bench/lookup_vs_floor.py, which passes through the environment:
--   LOOKUP_PAIRS   a file of "nik,no_kk[,expected]" lines (generated from the bench data set:
--                  mostly pairs that exist, about 10% valid pairs that match nothing)
--   LOOKUP_COOKIE  the Cookie header of a session opened by a GET "/" (it holds the CSRF secret)
--   LOOKUP_CSRF    that session's csrf_token, already form-urlencoded
-- Every POST uses that one session; each GET uses the cookie its POST was answered with. A
-- wrk thread serves several connections, so a GET may go out on another connection than its
-- POST: the cookie is the whole session, so that changes nothing. About half of wrk's
-- requests are POSTs and half GETs; a look-up is one of each.

local pairs_path = os.getenv("LOOKUP_PAIRS")
local cookie = os.getenv("LOOKUP_COOKIE")
local token = os.getenv("LOOKUP_CSRF")
if not (pairs_path and cookie and token) then
  error("set LOOKUP_PAIRS, LOOKUP_COOKIE and LOOKUP_CSRF (bench/lookup_vs_floor.py does)")
end

-- Request bodies are built once, when the script loads (once a wrk thread).
local bodies = {}
for line in io.lines(pairs_path) do
  local nik, kk = line:match("^(%d+),(%d+)")
  if nik then
    bodies[#bodies + 1] = "nik=" .. nik .. "&no_kk=" .. kk .. "&csrf_token=" .. token
  end
end
if #bodies == 0 then
  error("no NIK,KK pairs in " .. pairs_path)
end

local post_headers = {
  ["Content-Type"] = "application/x-www-form-urlencoded",
  ["Cookie"] = cookie,
}

-- One random sequence a thread (the floor's script seeds every thread with 7).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_id", threads)
end

function init(args)
  math.randomseed(7 + (thread_id or 0))
end

-- Cookies of answered POSTs whose result page is still to be fetched (this thread's).
local pending = {}

request = function()
  local next_cookie = table.remove(pending)
  if next_cookie then
    return wrk.format("GET", "/hasil", { ["Cookie"] = next_cookie }, nil)
  end
  return wrk.format("POST", "/", post_headers, bodies[math.random(#bodies)])
end

response = function(status, headers, body)
  if status == 303 then
    local set = headers["Set-Cookie"] or headers["set-cookie"]
    if set then
      pending[#pending + 1] = set:match("^([^;]+)")
    end
  end
end
