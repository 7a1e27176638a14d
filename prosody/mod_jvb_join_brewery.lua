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
-- The list is read from the configuration at every join, so 'prosodyctl reload' is enough for a new
-- or revoked token to take effect; after a reload, and when the module loads, an occupant whose
-- account is no longer listed is removed from the room. Other rooms of the component (jigasi's,
-- jibri's) are not touched.

local jid_bare = require "util.jid".bare;
local jid_node = require "util.jid".node;
local st = require "util.stanza";

local room_name = module:get_option_string("jvb_join_brewery_room", "jvbbrewery");

local function allowed()
	return module:get_option_set("jvb_join_brewery_occupants", {});
end

module:hook("muc-occupant-pre-join", function (event)
	local room, stanza = event.room, event.stanza;
	if jid_node(room.jid) ~= room_name then
		return;
	end
	local who = jid_bare(stanza.attr.from);
	if allowed():contains(who) then
		return;
	end
	module:log("warn", "Refused %s entry to the brewery %s: not an account of the fleet", tostring(who), room.jid);
	event.origin.send(st.error_reply(stanza, "auth", "forbidden", "Only the fleet's accounts may enter the brewery", room.jid));
	return true;
end, 100);

-- Occupants that are no longer allowed (their token was revoked, or they got in before the brewery
-- was closed) leave the room.
local function enforce()
	local muc = prosody.hosts[module.host] and prosody.hosts[module.host].modules.muc;
	local room = muc and muc.get_room_from_jid(room_name .. "@" .. module.host);
	if not room then
		return;
	end
	local members = allowed();
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

module:hook_global("config-reloaded", enforce);
module:hook("module-loaded", function (event)
	if event.module == "muc" then enforce(); end
end);
enforce();
