-- The Lua side of the script sandbox, run once when a Lua state is made (engine.rs).
-- Chunk name "=?": the error handler skips frames of this chunk, which stand for the
-- C functions Redis has in their place, so errors point at the user's line.
local real, P = ...
local killed, unwrap = P.killed, P.unwrap

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

-- pcall as Redis 7 makes it: an error table from redis.call gives back its text; a
-- killed script cannot catch its own kill.
local function fix(ok, ...)
  if ok then
    return ok, ...
  end
  if killed() then
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
    if killed() then
      error((...), 0)
    end
    return ok, normalize((...))
  end
  return ok, ...
end

real.pcall = function(...) return fix(pcall0(...)) end
real.xpcall = function(f, h)
  return pass_kill(xpcall0(f, function(e) return h(normalize(e)) end))
end
real.rawset = function(t, k, v)
  if proxies[t] then
    error("Attempt to modify a readonly table", 0)
  end
  return rawset0(t, k, v)
end
real.rawget = function(t, k)
  local r = proxies[t]
  if r then
    return rawget0(r, k)
  end
  return rawget0(t, k)
end
local function next(t, k)
  local r = proxies[t]
  if r then
    return next0(r, k)
  end
  return next0(t, k)
end
real.next = next
real.pairs = function(t) return next, t, nil end

local G = protect(real)
real._G = G
real.loadstring = function(s, name)
  local f, e = loadstring0(s, name)
  if f then
    setfenv0(f, G)
  end
  return f, e
end
real.load = function(f, name)
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
co.resume = function(...) return pass_kill(resume0(...)) end
real.coroutine = co

for _, name in next0, P.libs do
  local t = rawget0(real, name)
  if t then
    rawset0(real, name, protect(t))
  end
end
real.__redis__err__handler = handler

-- Runs a compiled script (EVAL) or a function with its two tables (FCALL).
local function run(f, keys, args)
  if keys then
    return xpcall0(function() return f(keys, args) end, handler)
  end
  return xpcall0(f, handler)
end
return G, run
