#!/bin/bash
# Lab stand-in of /usr/share/jitsi-meet/scripts/install-letsencrypt-cert.sh [EMAIL] [DOMAIN].
# The real script obtains a Let's Encrypt certificate with acme.sh and points the web server
# (and coturn) at it. The lab has no route to Let's Encrypt, so this stand-in fails with a
# clear message unless /etc/jitsi/meet/lab-acme.conf names an ACME directory
# (ACME_DIRECTORY=https://...) reachable from the lab; even then issuing is not implemented
# yet, so it says so and fails rather than pretend a certificate was issued.
set -e

EMAIL="$1"
DOMAIN="$2"
if [ -z "$DOMAIN" ]; then
    DEB_CONF_RESULT=$(debconf-show jitsi-meet-web-config 2>/dev/null | grep jitsi-meet/jvb-hostname || true)
    DOMAIN="${DEB_CONF_RESULT##*:}"
    DOMAIN="${DOMAIN# }"
fi
if [ -z "$DOMAIN" ]; then
    echo "install-letsencrypt-cert.sh: no domain given and none configured" >&2
    exit 1
fi

ACME_DIRECTORY=""
if [ -r /etc/jitsi/meet/lab-acme.conf ]; then
    ACME_DIRECTORY=$(sed -n 's/^ACME_DIRECTORY=//p' /etc/jitsi/meet/lab-acme.conf | tail -n 1)
fi

if [ -z "$ACME_DIRECTORY" ]; then
    echo "Let's Encrypt certificate for $DOMAIN: not available in the lab." >&2
    echo "This is the jitsi-meet-web-config lab stand-in: there is no ACME server reachable," >&2
    echo "so no certificate was issued and the self-signed certificate stays in place." >&2
    echo "Set ACME_DIRECTORY=<url> in /etc/jitsi/meet/lab-acme.conf to name a lab ACME server." >&2
    exit 1
fi

echo "Let's Encrypt certificate for $DOMAIN (contact ${EMAIL:-none}): ACME directory $ACME_DIRECTORY" >&2
echo "Issuing from a lab ACME directory is not implemented by this stand-in; nothing was changed." >&2
exit 1
