#!/bin/bash
# One-shot: once Cassandra answers, create the platform role with the generated password
# and replace the default superuser's public password with another generated secret.
# The default login is tried only while the admin secret does not work yet (first boot);
# later runs log in with the admin secret and only re-apply the role and its password.
set -euo pipefail

read_secret() {  # the first line of the file named by variable $1; exit 64 when empty
    local variable="$1" file="${!1:-}" value=""
    if [ -n "${file}" ] && [ -r "${file}" ]; then
        value="$(head -n 1 "${file}" | tr -d '\r\n')"
    fi
    if [ -z "${value}" ]; then
        echo "cassandra-init: ${variable} (${file:-unset}) is missing or empty; run python -m stack.credentials compose|swarm" >&2
        exit 64
    fi
    printf '%s' "${value//\'/\'\'}"  # quoted for CQL
}

platform_password="$(read_secret SMART_METER_CASSANDRA_PASSWORD_FILE)"
admin_password="$(read_secret SMART_METER_CASSANDRA_ADMIN_PASSWORD_FILE)"
platform_user="${SMART_METER_CASSANDRA_USERNAME:-smart_meter}"
if [[ ! "${platform_user}" =~ ^[a-z_][a-z0-9_]*$ ]]; then
    echo "cassandra-init: SMART_METER_CASSANDRA_USERNAME=${platform_user} is not a plain role name (a-z, 0-9, _)" >&2
    exit 64
fi
host="${SMART_METER_CASSANDRA_HOST:-cassandra}"
replication="${SMART_METER_CASSANDRA_REPLICATION:-1}"
wait_s="${SMART_METER_CASSANDRA_WAIT_S:-900}"
default_login="cassandra"  # the image's public first-boot superuser, replaced below

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
umask 077

cql_as() {  # cql_as PASSWORD FILE: run FILE as the cassandra superuser (no password on argv)
    printf '[authentication]\nusername = %s\npassword = %s\n' "${default_login}" "$1" > "${work}/cqlshrc"
    cqlsh --cqlshrc "${work}/cqlshrc" --request-timeout 60 -f "$2" "${host}" >"${work}/out" 2>&1
}

echo "SELECT release_version FROM system.local;" > "${work}/probe.cql"
cat > "${work}/setup.cql" <<CQL
ALTER KEYSPACE system_auth WITH replication = {'class': 'SimpleStrategy', 'replication_factor': ${replication}};
CREATE ROLE IF NOT EXISTS ${platform_user} WITH LOGIN = true AND PASSWORD = '${platform_password}';
ALTER ROLE ${platform_user} WITH PASSWORD = '${platform_password}';
GRANT ALL PERMISSIONS ON ALL KEYSPACES TO ${platform_user};
CQL
echo "ALTER ROLE ${default_login} WITH PASSWORD = '${admin_password}';" > "${work}/rotate.cql"

deadline=$((SECONDS + wait_s))
while true; do
    if cql_as "${admin_password}" "${work}/probe.cql"; then
        break
    fi
    if cql_as "${default_login}" "${work}/probe.cql"; then
        echo "cassandra-init: first boot, replacing the default superuser password"
        cql_as "${default_login}" "${work}/rotate.cql" || { cat "${work}/out" >&2; exit 1; }
        continue  # the admin secret works from now on
    fi
    if [ "${SECONDS}" -ge "${deadline}" ]; then
        echo "cassandra-init: no login at ${host}:9042 within ${wait_s} s (neither the admin secret nor the first-boot default): $(tail -n 1 "${work}/out")" >&2
        exit 1
    fi
    sleep 5
done
cql_as "${admin_password}" "${work}/setup.cql" || { cat "${work}/out" >&2; exit 1; }
echo "cassandra-init: role ${platform_user} ready, default superuser password replaced"
