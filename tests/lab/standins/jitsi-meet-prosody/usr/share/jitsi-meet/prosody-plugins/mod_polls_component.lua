-- Lab stand-in of Jitsi's mod_polls_component: the component module of polls.DOMAIN.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).
module:log("debug", "lab stand-in of mod_polls_component loaded on %s", module.host);
