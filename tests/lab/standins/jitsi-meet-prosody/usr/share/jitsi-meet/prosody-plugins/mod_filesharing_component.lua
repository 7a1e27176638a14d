-- Lab stand-in of Jitsi's mod_filesharing_component: the component module of filesharing.DOMAIN.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).
local muc_component = module:get_option_string("muc_component");
module:log("debug", "lab stand-in of mod_filesharing_component loaded on %s", module.host);
