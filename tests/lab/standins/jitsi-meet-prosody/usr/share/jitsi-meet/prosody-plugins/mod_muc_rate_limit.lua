-- Lab stand-in of Jitsi's mod_muc_rate_limit: enabled on the conference, breakout and lobby MUCs; paces joins and leaves per room.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).

module:log("debug", "lab stand-in of mod_muc_rate_limit loaded on %s", module.host);
