-- The Lua side of the script sandbox, run once when a Lua state is made (engine.rs).
-- Chunk name "=?": the error handler skips frames of this chunk, which stand for the
-- C functions Redis has in their place, so errors point at the user's line.
local real, P = ...
local shutdown, unwrap = P.shutdown, P.unwrap

local error, type, tostring, setmetatable = error, type, tostring, setmetatable
local rawset0, rawget0, next0, pcall0, xpcall0 = rawset, rawget, next, pcall, xpcall
local loadstring0, load0, setfenv0, resume0 = loadstring, load, setfenv, coroutine.resume
-- debug.getinfo(level, "Sl") without the debug library (P.getinfo counts one more frame:
-- this wrapper).
local info = P.getinfo
local function getinfo(level)
  local what, source, line = info(level + 1)
  if what then
    return { what = what, source = source, currentline = line }
  end
end

-- Read-only views. Redis's Lua marks _G and every library table read-only inside the
-- VM; stock Lua 5.1 cannot, so scripts see empty proxies that read through to the real
-- tables and refuse writes with Redis's message.
local proxies = setmetatable({}, { __mode = "k" })
local function readonly() error("Attempt to modify a readonly table", 2) end
local function protect(t)
  local p = setmetatable({}, { __index = t, __newindex = readonly, __metatable = false })
  proxies[p] = t
  return p
end

setmetatable(real, {
  __index = function(_, k)
    error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
  end,
})

-- Errors raised by our Rust functions arrive as userdata; make them the values Redis's C
-- functions raise: a table {err=...} (luaPushError + lua_error) or a string (luaL_error).
local function normalize(e)
  if type(e) == "userdata" then
    local text, is_table, ignore = unwrap(e)
    if text then
      if is_table then
        local t = { err = text }
        if ignore then
          t.ignore_error_stats_update = true
        end
        return t
      end
      return text
    end
  end
  return e
end

-- The error handler of every script run: error objects become tables
-- {err=, source=, line=} as Redis's __redis__err__handler makes them.
local function handler(err)
  local level = 2
  local i = getinfo(level)
  if i and i.what == "C" then
    level = level + 1
    i = getinfo(level)
  end
  while i and i.source == "=?" do
    level = level + 1
    i = getinfo(level)
  end
  err = normalize(err)
  if type(err) ~= "table" then
    err = { err = "ERR " .. tostring(err) }
  end
  if i then
    err["source"] = i.source
    err["line"] = i.currentline
  end
  return err
end

-- pcall as Redis 7 makes it: an error table from redis.call gives back its text. Redis
-- 7.0 lets pcall catch SCRIPT KILL's error (the next interrupt raises it again); only
-- SHUTDOWN's cannot be caught here, so the server stops at once.
local function fix(ok, ...)
  if ok then
    return ok, ...
  end
  if shutdown() then
    error((...), 0)
  end
  local e = normalize((...))
  if type(e) == "table" then
    local s = e.err
    if type(s) == "string" or type(s) == "number" then
      return false, s
    end
  end
  return false, e
end

local function pass_kill(ok, ...)
  if not ok then
    if shutdown() then
      error((...), 0)
    end
    return ok, normalize((...))
  end
  return ok, ...
end

-- The wrappers below stand in for C builtins, so their argument errors read as the
-- builtin's: its name, "no value" for a missing argument, and the caller's position
-- (unless the wrapper was called as `return f(...)`: a Lua tail call drops the caller's
-- frame, where Redis's C builtins keep it).
local select0, format = select, string.format
local getmetatable0, setmetatable0 = getmetatable, setmetatable
local function argtype(n, ...)
  if select0("#", ...) < n then
    return "no value"
  end
  return type((select0(n, ...)))
end
-- Both raise at level 3: the caller of the wrapper that calls them.
local function argerror(n, fname, msg)
  error(format("bad argument #%d to '%s' (%s)", n, fname, msg), 3)
end
local function expected(n, fname, what, ...)
  local got = argtype(n, ...)
  error(format("bad argument #%d to '%s' (%s expected, got %s)", n, fname, what, got), 3)
end

real.pcall = function(...)
  if select0("#", ...) == 0 then
    -- Redis's pcall calls its own placeholder when given nothing to call.
    return false, "attempt to call a boolean value"
  end
  return fix(pcall0(...))
end
real.xpcall = function(...)
  local f, h = ...
  if select0("#", ...) < 2 then
    argerror(2, "xpcall", "value expected")
  end
  return pass_kill(xpcall0(f, function(e) return h(normalize(e)) end))
end
real.rawset = function(...)
  local t, k, v = ...
  if proxies[t] then
    error("Attempt to modify a readonly table", 0)
  end
  if type(t) ~= "table" then
    expected(1, "rawset", "table", ...)
  end
  local n = select0("#", ...)
  if n < 3 then
    argerror(n < 2 and 2 or 3, "rawset", "value expected")
  end
  return rawset0(t, k, v)
end
real.rawget = function(...)
  local t, k = ...
  local r = proxies[t]
  if r then
    return rawget0(r, k)
  end
  if type(t) ~= "table" then
    expected(1, "rawget", "table", ...)
  end
  if select0("#", ...) < 2 then
    argerror(2, "rawget", "value expected")
  end
  return rawget0(t, k)
end
-- The iterator pairs returns (called by `for` with both arguments).
local function next(t, k)
  local r = proxies[t]
  if r then
    return next0(r, k)
  end
  return next0(t, k)
end
real.next = function(...)
  local t, k = ...
  local r = proxies[t]
  if r then
    return next0(r, k)
  end
  if type(t) ~= "table" then
    expected(1, "next", "table", ...)
  end
  return next0(t, k)
end
real.pairs = function(...)
  local t = ...
  if type(t) ~= "table" then
    expected(1, "pairs", "table", ...)
  end
  return next, t, nil
end

-- Metatables: a read-only table shows the metatable of the table behind it (none for
-- the libraries, the nonexistent-global guard for _G), itself read-only, and refuses a
-- new one as Redis's lua_setmetatable does.
local views = setmetatable0({}, { __mode = "k" })
real.getmetatable = function(...)
  if select0("#", ...) == 0 then
    argerror(1, "getmetatable", "value expected")
  end
  local t = ...
  local r = proxies[t]
  if r == nil then
    return getmetatable0(t)
  end
  local m = getmetatable0(r)
  if m == nil then
    return nil
  end
  local v = views[m]
  if v == nil then
    v = protect(m)
    views[m] = v
  end
  return v
end
real.setmetatable = function(...)
  local t, m = ...
  if type(t) ~= "table" then
    expected(1, "setmetatable", "table", ...)
  end
  if select0("#", ...) < 2 or (m ~= nil and type(m) ~= "table") then
    argerror(2, "setmetatable", "nil or table expected")
  end
  if proxies[t] then
    error("Attempt to modify a readonly table", 0)
  end
  -- Only a protected metatable can fail now; called from pcall its message has no
  -- position, so it gets the caller's.
  local ok, r = pcall0(setmetatable0, t, m)
  if not ok then
    error(r, 2)
  end
  return r
end

local G = protect(real)
real._G = G
real.loadstring = function(...)
  local s, name = ...
  local ts, tn = type(s), type(name)
  if ts ~= "string" and ts ~= "number" then
    expected(1, "loadstring", "string", ...)
  end
  if name ~= nil and tn ~= "string" and tn ~= "number" then
    expected(2, "loadstring", "string", ...)
  end
  local f, e = loadstring0(s, name)
  if f then
    setfenv0(f, G)
  end
  return f, e
end
real.load = function(...)
  local f, name = ...
  local tn = type(name)
  if type(f) ~= "function" then
    expected(1, "load", "function", ...)
  end
  if name ~= nil and tn ~= "string" and tn ~= "number" then
    expected(2, "load", "string", ...)
  end
  local g, e = load0(f, name)
  if g then
    setfenv0(g, G)
  end
  return g, e
end

local co = {}
for k, v in next0, coroutine do
  co[k] = v
end
co.resume = function(...)
  if type((...)) ~= "thread" then
    argerror(1, "resume", "coroutine expected")
  end
  return pass_kill(resume0(...))
end
real.coroutine = co

for _, name in next0, P.libs do
  local t = rawget0(real, name)
  if t then
    rawset0(real, name, protect(t))
  end
end
real.__redis__err__handler = handler

-- Strings index the read-only string library, and their metatable is read-only too, so
-- no script can change what ("x"):upper() means for the scripts after it.
local smt = getmetatable0("")
rawset0(smt, "__index", rawget0(real, "string"))
rawset0(smt, "__metatable", protect(smt))

-- Runs a compiled script with its KEYS and ARGV tables (built by the engine): as EVAL
-- (the two tables are globals) or as FCALL (they are the function's arguments).
local function run(f, keys, argv, fcall)
  if fcall then
    return xpcall0(function() return f(keys, argv) end, handler)
  end
  rawset0(real, "KEYS", keys)
  rawset0(real, "ARGV", argv)
  return xpcall0(f, handler)
end
return G, run
