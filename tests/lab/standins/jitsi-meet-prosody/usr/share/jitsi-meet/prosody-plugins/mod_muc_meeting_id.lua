-- Lab stand-in of Jitsi's mod_muc_meeting_id: enabled on the conference and breakout MUCs; gives every room a meeting id.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).
module:depends("jitsi_permissions");
module:depends("jitsi_session");
module:log("debug", "lab stand-in of mod_muc_meeting_id loaded on %s", module.host);
