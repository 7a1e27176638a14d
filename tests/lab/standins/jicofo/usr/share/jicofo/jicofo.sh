#!/bin/bash
# jicofo.sh of the jicofo lab stand-in (reference/jitsi-packages.md 2.2, 5.3). Like the real
# one it takes JAVA_SYS_PROPS from the environment (the init script sources
# /etc/jitsi/jicofo/config), adds -Dconfig.file if it is missing, stops with exit 2 when that
# file does not exist, and needs a working "java" on PATH. Then, instead of the JVM, it runs
# the stand-in daemon with the same system properties.

if [[ "$JAVA_SYS_PROPS" != *"-Dconfig.file="* ]]; then
    JAVA_SYS_PROPS="-Dconfig.file=/etc/jitsi/jicofo/jicofo.conf $JAVA_SYS_PROPS"
fi
config_file=$(echo "$JAVA_SYS_PROPS" | tr ' ' '\n' | sed -n 's/^-Dconfig\.file=//p' | head -n1)
if [ ! -f "$config_file" ]; then
    echo "Config file $config_file does not exist." >&2
    exit 2
fi

# the real script runs "exec java ...": without a working JVM jicofo does not start
if ! java -version >/dev/null 2>&1; then
    echo "$0: java: command not found or not working" >&2
    exit 127
fi

# shellcheck disable=SC2086
exec /usr/bin/python3 /usr/share/jicofo/standin/jicofo_standin.py $JAVA_SYS_PROPS "$@"
