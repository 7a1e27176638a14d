-- Lab stand-in of Jitsi's mod_muc_domain_mapper: enabled on the conference and breakout MUCs; maps tenant room addresses.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).
local base = module:get_option_string("muc_mapper_domain_base");
if not base then
    module:log("warn", "No muc_mapper_domain_base option set: the mapper does nothing");
end
module:log("debug", "lab stand-in of mod_muc_domain_mapper loaded on %s", module.host);
