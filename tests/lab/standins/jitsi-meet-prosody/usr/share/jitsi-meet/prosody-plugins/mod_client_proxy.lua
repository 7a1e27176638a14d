-- Lab stand-in of Jitsi's mod_client_proxy: the component module of focus.DOMAIN; relays its stanzas to jicofo's account.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).
local target_address = module:get_option_string("target_address");
if not target_address then
    module:log("error", "target_address is not set: nothing to relay to");
end
module:log("debug", "lab stand-in of mod_client_proxy loaded on %s", module.host);
