-- Lab stand-in of Jitsi's mod_jitsi_session: a dependency of the auth, lobby, breakout and meeting-id modules; keeps per-session Jitsi fields.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).

module:log("debug", "lab stand-in of mod_jitsi_session loaded on %s", module.host);
