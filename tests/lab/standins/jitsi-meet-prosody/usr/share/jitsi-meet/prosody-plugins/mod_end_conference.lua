-- Lab stand-in of Jitsi's mod_end_conference: the component module of endconference.DOMAIN.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).
module:depends("jitsi_session");
local muc_component = module:get_option_string("muc_component");
module:log("debug", "lab stand-in of mod_end_conference loaded on %s", module.host);
