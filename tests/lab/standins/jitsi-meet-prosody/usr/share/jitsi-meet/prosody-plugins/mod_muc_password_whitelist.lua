-- Lab stand-in of Jitsi's mod_muc_password_whitelist: enabled on the conference MUC; lets the listed accounts into locked rooms.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).

module:log("debug", "lab stand-in of mod_muc_password_whitelist loaded on %s", module.host);
