-- Lab stand-in of Jitsi's mod_muc_breakout_rooms: enabled on the meet VirtualHost; breakout rooms on the breakout_rooms_muc component.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).
module:depends("room_destroy");
module:depends("jitsi_session");
local breakout_muc = module:get_option_string("breakout_rooms_muc", "breakout." .. module.host);
module:log("debug", "breakout rooms on %s", breakout_muc);
module:log("debug", "lab stand-in of mod_muc_breakout_rooms loaded on %s", module.host);
