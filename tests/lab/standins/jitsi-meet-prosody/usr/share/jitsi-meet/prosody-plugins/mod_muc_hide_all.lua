-- Lab stand-in of Jitsi's mod_muc_hide_all: every room of this MUC component is hidden
-- from service discovery, also if an owner tries to make it public
-- (reference/jitsi-packages.md 2.3). Written for the jvb-join lab from the described behaviour.
module:hook("muc-room-created", function (event)
    event.room:set_hidden(true);
end, -100);

-- Refuse the "public room" switch in a room configuration form: keep the room hidden.
module:hook("muc-config-submitted/muc#roomconfig_publicroom", function ()
    return true;
end, 100);
