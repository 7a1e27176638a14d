#!/bin/bash
# Lab stand-in of jvb/resources/jvb.sh (reference §2.1, §5.3). Like the real script it needs a working
# `java` on PATH (whatever the alternatives point to); it asks that JVM for its java.home so the
# daemon trusts exactly what that JVM's trust store trusts, then runs the stand-in daemon.

SCRIPT_DIR="$(dirname "$(readlink -f "$0")")"
if [ -f "$SCRIPT_DIR/lib/videobridge.rc" ]; then
    . "$SCRIPT_DIR/lib/videobridge.rc"
fi
if [ -z "$VIDEOBRIDGE_MAX_MEMORY" ]; then VIDEOBRIDGE_MAX_MEMORY=3072m; fi
if [ -z "$VIDEOBRIDGE_GC_TYPE" ]; then VIDEOBRIDGE_GC_TYPE=G1GC; fi

JAVA_PROPS=$(java -Xmx$VIDEOBRIDGE_MAX_MEMORY -XX:+Use$VIDEOBRIDGE_GC_TYPE \
    -XshowSettings:properties -version 2>&1)
status=$?
if [ $status -ne 0 ]; then
    echo "$JAVA_PROPS" >&2
    exit $status
fi
JAVA_HOME_FOUND=$(printf '%s\n' "$JAVA_PROPS" | sed -n 's/^ *java\.home = //p' | head -n1)

exec python3 "$SCRIPT_DIR/standin/jvb.py" --java-home "$JAVA_HOME_FOUND" $JAVA_SYS_PROPS "$@"
