#!/bin/bash
# Lab stand-in of /usr/share/jitsi-meet/scripts/register-jaas-account.sh: the real script
# registers a JaaS account at jaas.8x8.vc. The lab has no route there, so it fails clearly.
echo "JaaS account registration is not available in the lab (jitsi-meet-web-config stand-in)." >&2
exit 1
