-- Lab stand-in of Jitsi's mod_room_destroy: a dependency of muc_breakout_rooms; destroys rooms on request.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).

module:log("debug", "lab stand-in of mod_room_destroy loaded on %s", module.host);
