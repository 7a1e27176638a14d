#!/bin/bash
# Lab stand-in of jitsi-videobridge's resources/graceful_shutdown.sh (@ a29d97d13, reference §7.1),
# installed as /usr/share/jitsi-videobridge/graceful_shutdown.sh. Needs curl and jq, which the
# package does not depend on. -h URL (default http://localhost:8080), -s: fewer messages.
#  1. POSTs a graceful shutdown request to URL/colibri/shutdown; anything but 200 (the default
#     install: videobridge.apis.rest.enabled and videobridge.rest.shutdown.enabled are both off)
#     prints "Invalid HTTP status for shutdown request: CODE" on stderr and exits 1.
#  2. While URL/colibri/stats counts participants (participants - octo_endpoints), waits 10 s.
#  3. Waits, with no time limit, until the bridge's process is gone, and exits 0. Like the real
#     script it finds that process once, before the request; when it found none it waits for
#     /proc/ itself, that is for ever.
url="http://localhost:8080"
say=1
OPTIND=1
while getopts "p:h:t:s" opt; do
    case "$opt" in
        h) url=$OPTARG ;;
        s) say=0 ;;
        *) ;;
    esac
done
info() { if [ "$say" = 1 ]; then echo "$@"; fi; }
left() { curl -s "$url/colibri/stats" | jq '.participants - .octo_endpoints'; }
wait_gone() {
    while [ -d "/proc/$1" ]; do
        echo "PID $1 still exists"
        sleep 10
    done
    echo "PID $1 is done"
}

# the real script greps ps for the Java process of jitsi-videobridge.jar; the stand-in's is jvb.py
pid=$(ps aux | grep -v grep | grep 'standin/jvb.py' | awk '{print $2}' | head -n 1)

code=$(curl -s -o /dev/null -H "Content-Type: application/json" -d '{ "graceful-shutdown": "true" }' \
    -w "%{http_code}" "$url/colibri/shutdown")
if [ "$code" != "200" ]; then
    echo "Invalid HTTP status for shutdown request: $code" >&2
    exit 1
fi
info "Graceful shutdown started"
count=$(left)
while [[ $count -gt 0 ]]; do
    info "There are still $count participants"
    sleep 10
    if ! count=$(left); then
        info "Failed to get participant count, bridge may be already shutdown, waiting on pid $pid"
        wait_gone "$pid"
        exit 0
    fi
done
echo "Waiting for bridge pid $pid to finish shutting down"
wait_gone "$pid"
info "Bridge shutdown OK"
exit 0
