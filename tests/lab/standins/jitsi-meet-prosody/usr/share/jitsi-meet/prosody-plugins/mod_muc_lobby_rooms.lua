-- Lab stand-in of Jitsi's mod_muc_lobby_rooms: enabled on the meet VirtualHost; lobby rooms on the lobby_muc component.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).
module:depends("jitsi_session");
local lobby_muc = module:get_option_string("lobby_muc");
local main_muc = module:get_option_string("main_muc");
if not (lobby_muc and main_muc) then
    module:log("warn", "lobby_muc and main_muc must both be set for lobby rooms");
end
module:log("debug", "lab stand-in of mod_muc_lobby_rooms loaded on %s", module.host);
