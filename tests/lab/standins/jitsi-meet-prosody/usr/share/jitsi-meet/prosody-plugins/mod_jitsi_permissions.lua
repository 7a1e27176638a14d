-- Lab stand-in of Jitsi's mod_jitsi_permissions: a dependency of muc_meeting_id; per-occupant permissions.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).

module:log("debug", "lab stand-in of mod_jitsi_permissions loaded on %s", module.host);
