-- Lab stand-in of Jitsi's mod_conference_duration: enabled on the meet VirtualHost; tells clients when a conference started.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).
local main_muc = module:get_option_string("main_muc");
if not main_muc then
    module:log("warn", "main_muc is not set: conference duration is not reported");
end
module:log("debug", "lab stand-in of mod_conference_duration loaded on %s", module.host);
