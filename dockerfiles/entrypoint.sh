#!/bin/sh
# Entry point of every smart-meter image: refuse to start without each credential the
# service needs, then run the command. SMART_METER_REQUIRED_SECRETS names them (e.g.
# "NATS CASSANDRA"); each comes from the file SMART_METER_<NAME>_PASSWORD_FILE (a Docker
# secret or a generated file, never a literal). Missing or empty: one line, exit 64.
set -eu

refuse() {
    echo "smart-meter: $1; give it as a secret file (python -m stack.credentials, see README)" >&2
    exit 64
}

for name in ${SMART_METER_REQUIRED_SECRETS:-}; do
    variable="SMART_METER_${name}_PASSWORD_FILE"
    eval "file=\${${variable}:-}"
    [ -n "${file}" ] || refuse "${variable} is not set, so the ${name} password is empty"
    [ -r "${file}" ] || refuse "the ${name} password file ${file} cannot be read"
    [ -n "$(tr -d '[:space:]' < "${file}")" ] || refuse "the ${name} password in ${file} is empty"
done

exec "$@"
