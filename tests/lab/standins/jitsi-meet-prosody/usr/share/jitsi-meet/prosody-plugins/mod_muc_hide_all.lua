-- Lab stand-in of Jitsi's mod_muc_hide_all, enabled on the conference, breakout, lobby and
-- internal MUC components. Written for the jvb-join lab from the upstream module's behaviour
-- (FIDELITY.md): every room is made hidden before it is created, so no room is listed in
-- disco#items; a disco#info query about a room is refused with auth/forbidden unless it comes
-- from an occupant of that room. Joining is not restricted: whoever knows a room's address
-- may enter it.
local jid_bare = require "util.jid".bare;
local st = require "util.stanza";

local function room_of(address)
    local muc = prosody.hosts[module.host] and prosody.hosts[module.host].modules.muc;
    return muc and muc.get_room_from_jid(address);
end

module:hook("muc-room-pre-create", function (event)
    event.room:set_hidden(true);
end, -1);

local function info_only_for_occupants(event)
    local origin, stanza = event.origin, event.stanza;
    local room = room_of(jid_bare(stanza.attr.to));
    if room and not room:get_occupant_by_real_jid(stanza.attr.from) then
        origin.send(st.error_reply(stanza, "auth", "forbidden"));
        return true;
    end
    -- not a room: prosody answers (item-not-found, or the component's own info)
end

-- ahead of mod_muc's own disco#info handlers
module:hook("iq-get/bare/http://jabber.org/protocol/disco#info:query", info_only_for_occupants, 1);
module:hook("iq-get/host/http://jabber.org/protocol/disco#info:query", info_only_for_occupants, 1);
