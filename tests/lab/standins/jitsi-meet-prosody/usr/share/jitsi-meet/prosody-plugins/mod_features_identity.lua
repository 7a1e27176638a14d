-- Lab stand-in of Jitsi's mod_features_identity: enabled on the meet VirtualHost; adds Jitsi features to the host's disco.
-- Written for the jvb-join lab so that prosody loads the module the packaged config
-- enables; its behaviour is not modelled (tests/lab/standins/FIDELITY.md).

module:log("debug", "lab stand-in of mod_features_identity loaded on %s", module.host);
