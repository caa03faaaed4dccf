-- mod_sandbox_buddy: the demo contact of `make run`'s legacy network
-- (scripts/sandbox.sh loads it on the VirtualHost legacy.localhost only, through
-- plugin_paths = this directory).
--
-- buddy@legacy.localhost is no account: this module answers for it.
--   * every account of the host has it in its roster, subscription "both"
--     (added when the roster is loaded, so also for accounts created later);
--   * it is always available: probes are answered, and a subscription
--     request is accepted (and returned, so both ways);
--   * a chat message gets the answer   buddy: you said "..."
-- Everything else sent to it is swallowed (no offline storage, no bounces).
local st = require "util.stanza";
local jid_bare, jid_split = require "util.jid".bare, require "util.jid".split;
local rm = require "core.rostermanager";

local host = module.host;
local name = module:get_option_string("sandbox_buddy_name", "buddy");
local buddy = name .. "@" .. host;
local buddy_full = buddy .. "/sandbox";

local function available(to)
	return st.presence({ from = buddy_full, to = to })
		:tag("show"):text("chat"):up()
		:tag("status"):text("I answer what you say"):up();
end

-- the roster side: the buddy in every local account's roster, both ways
module:hook("roster-load", function(event)
	local roster = event.roster;
	if event.username == name or not roster or roster[buddy] then return; end
	roster[buddy] = { subscription = "both", name = "Buddy", groups = {} };
	if not rm.save_roster(event.username, event.host, roster, buddy) then
		module:log("warn", "could not add %s to the roster of %s@%s", buddy, event.username, event.host);
	end
end);

local function to_buddy(event)
	local stanza = event.stanza;
	return jid_bare(stanza.attr.to) == buddy;
end

local function on_presence(event)
	if not to_buddy(event) then return; end
	local stanza = event.stanza;
	local from, t = stanza.attr.from, stanza.attr.type;
	if not from then return true; end
	local from_bare = jid_bare(from);
	if t == "probe" then
		module:send(available(from));
	elseif t == "subscribe" then
		module:send(st.presence({ from = buddy, to = from_bare, type = "subscribed" }));
		module:send(available(from_bare));
		local node, fhost = jid_split(from_bare);
		if fhost == host then   -- both ways: ask back (already granted in the roster)
			module:send(st.presence({ from = buddy, to = from_bare, type = "subscribe" }));
		end
	elseif t == nil then
		-- the user came online (or changed status): tell that resource we are here
		module:send(available(from));
	end
	return true;
end

local function on_message(event)
	if not to_buddy(event) then return; end
	local stanza = event.stanza;
	local t = stanza.attr.type or "normal";
	local body = stanza:get_child_text("body");
	if (t == "chat" or t == "normal") and body and stanza.attr.from then
		module:log("info", "%s says to %s: %s", stanza.attr.from, buddy, body);
		local reply = st.message({ from = buddy_full, to = stanza.attr.from, type = "chat",
			id = stanza.attr.id and ("re-" .. stanza.attr.id) or nil })
			:tag("body"):text(name .. ": you said \"" .. body .. "\""):up();
		module:send(reply);
	end
	return true;
end

local function on_iq(event)
	if not to_buddy(event) then return; end
	local stanza = event.stanza;
	if stanza.attr.type == "get" or stanza.attr.type == "set" then
		module:send(st.error_reply(stanza, "cancel", "service-unavailable"));
	end
	return true;
end

for _, kind in ipairs({ "bare", "full" }) do
	module:hook("presence/" .. kind, on_presence, 100);
	module:hook("message/" .. kind, on_message, 100);
	module:hook("iq/" .. kind, on_iq, 100);
end

module:log("info", "%s is here: always available, answers chat messages", buddy);
