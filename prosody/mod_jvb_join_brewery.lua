-- jvb-join: only the fleet enters the videobridge brewery.
--
-- Loaded on the internal MUC component (internal.auth.DOMAIN) by jvb-join's own prosody file,
-- /etc/prosody/jvb-join-bridges.cfg.lua. jicofo takes every occupant of the brewery room that sends
-- colibri stats for a videobridge and routes conferences, with their media, to it; the packaged
-- component lets anyone in, guests of the public meet domain included. This module refuses entry to
-- the brewery room to every account that is not listed in jvb_join_brewery_occupants (jicofo's focus
-- account, the package's jvb account and the accounts of live jvb-join tokens), whatever transport
-- (c2s, BOSH, websocket) or virtual host the session came from.
--
-- The list is read from the configuration when the module loads and at every reload, so
-- 'prosodyctl reload' is enough for a new or revoked token to take effect; after a reload, and when
-- the module loads, an occupant whose account is no longer listed is removed from the room. Other
-- rooms of the component (jigasi's, jibri's) are not touched.
--
-- It also keeps the bridges' presence between jicofo and each bridge. Every bridge sends its stats
-- presence every few seconds, and the packaged room sends each one to every occupant: with N bridges
-- that is N*N stanzas for prosody to build and write and for the bridges to read, which no bridge uses. In the
-- brewery room a presence from one bridge account to another (every listed account that is not in
-- jvb_join_brewery_observers) is not sent; jicofo (an observer) still gets every presence, and each
-- bridge its own, including the presences a second session of its own account sees on joining.

local jid_bare = require "util.jid".bare;
local jid_node = require "util.jid".node;
local st = require "util.stanza";

local room_name = module:get_option_string("jvb_join_brewery_room", "jvbbrewery");

local allowed_set, observer_set;

local function read_options()
	allowed_set = module:get_option_set("jvb_join_brewery_occupants", {});
	observer_set = module:get_option_set("jvb_join_brewery_observers", {});
end
read_options();

-- Without observers (a file written before they were listed) nothing is filtered: jicofo must
-- never lose the bridges' presence.
local function is_bridge(bare)
	return not observer_set:empty() and allowed_set:contains(bare) and not observer_set:contains(bare);
end

-- The room's own code sends an occupant's presence by walking every occupant (each one copied) and
-- routing a stanza to each: with N bridges each presence of a bridge costs N copies even when the
-- stanzas are dropped. In the brewery room, the walk that publishes a bridge's presence sees only
-- the observers and the bridge's own account, and the list a joining bridge gets holds only the
-- observers and its own account.
local function occupant_of(room, nick)
	local occupants = rawget(room, "_occupants");
	if occupants then
		return occupants[nick];
	end
	return room:get_occupant_by_nick(nick);
end

local function walk_only(room, keep)
	return function ()
		local occupants, nick, raw = room._occupants, nil, nil;
		return function ()
			repeat
				nick, raw = next(occupants, nick);
			until nick == nil or keep(raw);
			if nick ~= nil then
				return nick, room:get_occupant_by_nick(nick);
			end
		end;
	end;
end

local pack = table.pack or function (...) return { n = select("#", ...), ... }; end
local unpack = table.unpack or unpack;

local function with_walk(room, keep, method, ...)
	local before = rawget(room, "each_occupant");
	room.each_occupant = walk_only(room, keep);
	local result = pack(pcall(method, room, ...));
	room.each_occupant = before;
	if not result[1] then
		error(result[2], 0);
	end
	return unpack(result, 2, result.n);
end

local function own_and_observers(own)
	return function (raw)
		return raw.bare_jid == own or not is_bridge(raw.bare_jid);
	end;
end

local function filter_route(room)
	if rawget(room, "route_stanza") or not rawget(room, "_occupants") then
		return;
	end
	local route, publicise, send_list = room.route_stanza, room.publicise_occupant_status, room.send_occupant_list;
	room.route_stanza = function (self, stanza)
		if stanza.name == "presence" then
			local to = jid_bare(stanza.attr.to);
			if to and is_bridge(to) then
				local sender = occupant_of(self, stanza.attr.from);
				if sender and sender.bare_jid ~= to and is_bridge(sender.bare_jid) then
					return;
				end
			end
		end
		return route(self, stanza);
	end
	-- Through varargs: the methods' parameters differ between prosody releases. A presence for one
	-- recipient (0.12's eighth parameter) walks no one and passes unchanged.
	room.publicise_occupant_status = function (self, occupant, ...)
		if select(7, ...) ~= nil or not is_bridge(occupant.bare_jid) then
			return publicise(self, occupant, ...);
		end
		return with_walk(self, own_and_observers(occupant.bare_jid), publicise, occupant, ...);
	end
	room.send_occupant_list = function (self, to, ...)
		local own = jid_bare(to);
		if not is_bridge(own) then
			return send_list(self, to, ...);
		end
		return with_walk(self, own_and_observers(own), send_list, to, ...);
	end
end

local function brewery_room()
	local muc = prosody.hosts[module.host] and prosody.hosts[module.host].modules.muc;
	return muc and muc.get_room_from_jid(room_name .. "@" .. module.host);
end

module:hook("muc-room-created", function (event)
	if jid_node(event.room.jid) == room_name then
		filter_route(event.room);
	end
end);

module:hook("muc-occupant-pre-join", function (event)
	if jid_node(event.room.jid) == room_name then
		filter_route(event.room);
	end
end, 200);

module:hook("muc-occupant-pre-join", function (event)
	local room, stanza = event.room, event.stanza;
	if jid_node(room.jid) ~= room_name then
		return;
	end
	local who = jid_bare(stanza.attr.from);
	if allowed_set:contains(who) then
		return;
	end
	module:log("warn", "Refused %s entry to the brewery %s: not an account of the fleet", tostring(who), room.jid);
	event.origin.send(st.error_reply(stanza, "auth", "forbidden", "Only the fleet's accounts may enter the brewery", room.jid));
	return true;
end, 100);

-- Occupants that are no longer allowed (their token was revoked, or they got in before the brewery
-- was closed) leave the room.
local function enforce()
	local room = brewery_room();
	if not room then
		return;
	end
	filter_route(room);
	local members = allowed_set;
	local out = {};
	for nick, occupant in room:each_occupant() do
		if not members:contains(occupant.bare_jid) then
			out[#out + 1] = nick;
		end
	end
	for _, nick in ipairs(out) do
		module:log("warn", "Removing %s from the brewery %s: not an account of the fleet", nick, room.jid);
		room:set_role(true, nick, nil, "Only the fleet's accounts may stay in the brewery");
	end
end

module:hook_global("config-reloaded", function ()
	read_options();
	enforce();
end);
module:hook("module-loaded", function (event)
	if event.module == "muc" then enforce(); end
end);
enforce();

function module.unload()
	local room = brewery_room();
	if room then
		room.route_stanza, room.publicise_occupant_status, room.send_occupant_list = nil, nil, nil;
	end
end
