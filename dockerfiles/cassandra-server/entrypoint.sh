#!/bin/bash
# Cassandra with password authentication: refuses to start without the generated
# secrets, switches cassandra.yaml to PasswordAuthenticator and CassandraAuthorizer, then
# hands over to the official image's entrypoint. Roles are made by init.sh.
set -euo pipefail

for variable in SMART_METER_CASSANDRA_PASSWORD_FILE SMART_METER_CASSANDRA_ADMIN_PASSWORD_FILE; do
    file="${!variable:-}"
    if [ -z "${file}" ] || [ ! -r "${file}" ] || [ -z "$(tr -d '\r\n' < "${file}")" ]; then
        echo "cassandra: ${variable} (${file:-unset}) is missing or empty; run python -m stack.credentials compose|swarm" >&2
        exit 64
    fi
done

yaml="${SMART_METER_CASSANDRA_YAML:-${CASSANDRA_CONF:-/etc/cassandra}/cassandra.yaml}"
if [ ! -w "${yaml}" ]; then
    echo "cassandra: cannot write ${yaml}; set SMART_METER_CASSANDRA_YAML to the server's cassandra.yaml" >&2
    exit 64
fi
# drop the authenticator and authorizer (one line or a block of indented lines), then set ours
awk '
    /^(authenticator|authorizer):/ { skipping = 1; next }
    skipping && /^[ \t]/ { next }
    { skipping = 0; print }
' "${yaml}" > "${yaml}.smart-meter"
printf 'authenticator: PasswordAuthenticator\nauthorizer: CassandraAuthorizer\n' >> "${yaml}.smart-meter"
cat "${yaml}.smart-meter" > "${yaml}"
rm -f "${yaml}.smart-meter"

exec "${SMART_METER_CASSANDRA_NEXT:-/usr/local/bin/docker-entrypoint.sh}" "$@"
