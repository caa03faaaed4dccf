-- sandbox-bot.lua — the IRC side of `make run`: a demo user that sits in the
-- demo channel and answers, so a newcomer joining the room from XMPP sees an
-- IRC person and their messages at once. Plain IRC over a socket, Lua 5.4 with
-- LuaSocket (both come with Prosody, so the run profile has them).
--   lua5.4 scripts/sandbox-bot.lua HOST PORT NICK CHANNEL
-- It greets whoever joins, answers every channel message with
-- "NICK: you said “TEXT”" and private messages likewise; it reconnects when
-- the server goes away and exits on SIGTERM (the default action).
local socket = require("socket")

local host = arg[1] or "127.0.0.1"
local port = tonumber(arg[2] or "6667")
local nick = arg[3] or "demobot"
local chan = arg[4] or "#causeway"

local function log(fmt, ...)
  io.stdout:write(os.date("!%H:%M:%S "), string.format(fmt, ...), "\n")
  io.stdout:flush()
end

local function send(conn, line)
  -- no CR, LF or NUL from a peer's text may reach the line
  line = line:gsub("[\r\n%z]", " ")
  assert(conn:send(line .. "\r\n"))
end

-- ":nick!user@host CMD p1 p2 :trailing" -> nick, CMD, { params }
local function parse(line)
  local prefix, rest = line:match("^:(%S+) (.*)$")
  rest = rest or line
  local cmd, args = rest:match("^(%S+) ?(.*)$")
  local params = {}
  while args and args ~= "" do
    if args:sub(1, 1) == ":" then
      params[#params + 1] = args:sub(2)
      break
    end
    local p, more = args:match("^(%S+) ?(.*)$")
    params[#params + 1] = p
    args = more
  end
  local from = prefix and prefix:match("^([^!]+)") or nil
  return from, cmd and cmd:upper() or "", params
end

local function answer(text, who)
  local action = text:match("^\1ACTION (.*)\1?$")
  if action then
    return string.format("%s: you did “%s”", who, (action:gsub("\1$", "")))
  end
  if text:sub(1, 1) == "\1" then return nil end   -- other CTCP: no answer
  return string.format("%s: you said “%s”", who, text)
end

local function session()
  local conn, err = socket.connect(host, port)
  if not conn then return "connect: " .. tostring(err) end
  conn:settimeout(300)
  local me = nick
  send(conn, "NICK " .. me)
  send(conn, "USER " .. me .. " 0 * :Causeway sandbox demo user")
  while true do
    local line, rerr = conn:receive("*l")
    if not line then
      if rerr ~= "timeout" then conn:close(); return "read: " .. tostring(rerr) end
      send(conn, "PING :keepalive")
    else
      local from, cmd, p = parse(line)
      if cmd == "PING" then
        send(conn, "PONG :" .. (p[1] or ""))
      elseif cmd == "001" then
        me = p[1] or me
        send(conn, "JOIN " .. chan)
      elseif cmd == "433" then            -- nick in use (a second sandbox?)
        me = me .. "_"
        send(conn, "NICK " .. me)
      elseif cmd == "JOIN" and from == me then
        log("joined %s as %s", chan, me)
        send(conn, "TOPIC " .. chan .. " :Causeway sandbox: IRC on the other side of this room. "
             .. "Say something, " .. me .. " answers.")
      elseif cmd == "JOIN" and from then
        send(conn, "PRIVMSG " .. chan .. " :Welcome, " .. from .. "! I am " .. me
             .. ", a user on the IRC side. Say something and I will answer.")
      elseif cmd == "PRIVMSG" and from and from ~= me and p[2] then
        local target = (p[1] == me) and from or p[1]
        local reply = answer(p[2], from)
        if reply then send(conn, "PRIVMSG " .. target .. " :" .. reply) end
      elseif cmd == "ERROR" then
        conn:close()
        return "server: " .. (p[1] or "")
      end
    end
  end
end

while true do
  local why = session()
  log("disconnected (%s); again in 2 s", why)
  socket.sleep(2)
end
