-- wrk script: POST the portal's look-up form ("/") with a random NIK + No. KK pair.
--
-- Driven by bench/lookup_vs_floor.py, which passes through the environment:
--   LOOKUP_PAIRS   a file of "nik,no_kk[,expected]" lines (generated from the bench data set:
--                  mostly pairs that exist, about 10% valid pairs that match nothing)
--   LOOKUP_COOKIE  the Cookie header of a session opened by a GET "/" (it holds the CSRF secret)
--   LOOKUP_CSRF    that session's csrf_token, already form-urlencoded
-- Every request of every connection uses that one session, as one browser tab would.

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

local headers = {
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

request = function()
  return wrk.format("POST", "/", headers, bodies[math.random(#bodies)])
end
