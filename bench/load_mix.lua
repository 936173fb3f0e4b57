-- wrk script of `make load` (bench/load.py): one kind of request a wrk process, one
-- connection a wrk thread (run with -tN -cN), so each thread is one browser walking its pages
-- in order and every answer is checked against the request it answers.
--
-- Environment, set by bench/load.py:
--   LOAD_KIND          lookup_hit | lookup_miss | track | queue | case | dashboard
--   LOAD_DATA          lines the kind picks from at random: "nik,no_kk" (look-ups),
--                      "TICKET,nik" (track), a case id (case); none for queue and dashboard
--   LOAD_COOKIE        the public session's cookie ("dtsen_session=..."), opened by a GET /
--   LOAD_CSRF          that session's csrf_token, form-urlencoded
--   LOAD_STAFF_COOKIE  a signed-in officer's cookie ("dtsen_staff=...")
--   LOAD_REPORT        where done() writes the counts and the latency distribution
--
-- A public form is Post/Redirect/Get: the POST (look-up, tracking) answers 303/302 with a new
-- session cookie, and the thread's next request is the GET of that Location with it, as a
-- browser does. The checks: a look-up POST goes to /hasil, a hit shows the household
-- ("desil-card") and a miss does not; tracking goes to /lacak/kasus, which shows the ticket;
-- staff pages answer 200 (a lost staff session would be a 302 to the sign-in page, which wrk
-- alone would count as a success). Anything else is counted as "unexpected".

local kind = os.getenv("LOAD_KIND")
local data_path = os.getenv("LOAD_DATA")
local public_cookie = os.getenv("LOAD_COOKIE")
local token = os.getenv("LOAD_CSRF")
local staff_cookie = os.getenv("LOAD_STAFF_COOKIE")
local report = os.getenv("LOAD_REPORT")
if not (kind and report) then
  error("set LOAD_KIND and LOAD_REPORT (bench/load.py does)")
end

local items = {}
if data_path and data_path ~= "" then
  for line in io.lines(data_path) do
    if line ~= "" then
      items[#items + 1] = line
    end
  end
end

local FORM = "application/x-www-form-urlencoded"
local COUNTERS = { "n2xx", "n3xx", "n429", "nother", "unexpected" }

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
  thread:set("thread_id", #threads)
end

-- per thread (one connection): counters, the session's cookies, what comes next
n2xx, n3xx, n429, nother, unexpected = 0, 0, 0, 0, 0
first_unexpected = ""
local cookies = {}
local step = "start" -- what the request in flight is: "post", "get" or "page"
local follow = nil -- the Location to GET next
local expected = nil -- "hit", "miss" or a ticket, for the GET that follows a POST

function init(args)
  math.randomseed(7 + 7919 * (thread_id or 0))
  if public_cookie then
    local name, value = public_cookie:match("^([^=]+)=(.*)$")
    if name then
      cookies[name] = value
    end
  end
end

local function cookie_header()
  local parts = {}
  for name, value in pairs(cookies) do
    parts[#parts + 1] = name .. "=" .. value
  end
  return table.concat(parts, "; ")
end

local function pick()
  if #items == 0 then
    error("no data lines in " .. tostring(data_path) .. " for " .. kind)
  end
  return items[math.random(#items)]
end

local function post(path, body)
  step = "post"
  return wrk.format("POST", path, { ["Content-Type"] = FORM, ["Cookie"] = cookie_header() }, body)
end

local function staff_page(path)
  step = "page"
  return wrk.format("GET", path, { ["Cookie"] = staff_cookie })
end

request = function()
  if follow then
    local path = follow
    follow = nil
    step = "get"
    return wrk.format("GET", path, { ["Cookie"] = cookie_header() })
  end
  if kind == "lookup_hit" or kind == "lookup_miss" then
    local nik, kk = pick():match("^(%d+),(%d+)")
    expected = kind == "lookup_hit" and "hit" or "miss"
    return post("/", "nik=" .. nik .. "&no_kk=" .. kk .. "&csrf_token=" .. token)
  elseif kind == "track" then
    local ticket, nik = pick():match("^([%w-]+),(%d+)")
    expected = ticket
    return post("/lacak", "ticket=" .. ticket .. "&nik=" .. nik .. "&csrf_token=" .. token)
  elseif kind == "queue" then
    return staff_page("/staf/")
  elseif kind == "case" then
    return staff_page("/staf/kasus/" .. pick())
  elseif kind == "dashboard" then
    return staff_page("/staf/dasbor")
  end
  error("unknown LOAD_KIND " .. kind)
end

local function header(headers, wanted)
  for name, value in pairs(headers) do
    if name:lower() == wanted then
      return value
    end
  end
  return nil
end

local function wrong(status, why)
  unexpected = unexpected + 1
  if first_unexpected == "" then
    first_unexpected = kind .. " " .. step .. ": HTTP " .. status .. " " .. why
  end
end

response = function(status, headers, body)
  if status == 429 then
    n429 = n429 + 1
  elseif status >= 200 and status < 300 then
    n2xx = n2xx + 1
  elseif status >= 300 and status < 400 then
    n3xx = n3xx + 1
  else
    nother = nother + 1
  end
  local set = header(headers, "set-cookie")
  if set then
    local name, value = set:match("^([^=;]+)=([^;]*)")
    if name and value ~= "" then
      cookies[name] = value
    end
  end
  if step == "post" then
    local location = header(headers, "location") or ""
    local path = location:gsub("^https?://[^/]+", "")
    local want = kind == "track" and "/lacak/kasus" or "/hasil"
    if (status == 302 or status == 303) and path == want then
      follow = path
    else
      wrong(status, "to " .. path .. " (expected a redirect to " .. want .. ")")
    end
  elseif step == "get" then
    if status ~= 200 then
      wrong(status, "on the page after the POST")
    elseif expected == "hit" and not body:find("desil-card", 1, true) then
      wrong(status, "a hit that shows no household")
    elseif expected == "miss" and body:find("desil-card", 1, true) then
      wrong(status, "a miss that shows a household")
    elseif expected ~= "hit" and expected ~= "miss" and not body:find(expected, 1, true) then
      wrong(status, "the tracked case without its ticket")
    end
  elseif status ~= 200 then
    wrong(status, "on a staff page")
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(report, "w"))
  local totals = {}
  for _, name in ipairs(COUNTERS) do
    totals[name] = 0
  end
  local first = ""
  for _, thread in ipairs(threads) do
    for _, name in ipairs(COUNTERS) do
      totals[name] = totals[name] + (tonumber(thread:get(name)) or 0)
    end
    local seen = thread:get("first_unexpected")
    if first == "" and seen and seen ~= "" then
      first = seen
    end
  end
  for _, name in ipairs(COUNTERS) do
    out:write(name, " ", totals[name], "\n")
  end
  out:write("requests ", summary.requests, "\n")
  out:write("duration_us ", summary.duration, "\n")
  local e = summary.errors
  out:write("errors ", e.connect, " ", e.read, " ", e.write, " ", e.timeout, " ", e.status, "\n")
  -- the latency distribution in steps of 0.5 %, in microseconds
  for i = 1, 200 do
    out:write("q ", i * 0.5, " ", latency:percentile(i * 0.5), "\n")
  end
  out:write("first_unexpected ", first, "\n")
  out:close()
end
