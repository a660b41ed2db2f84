#!/bin/sh
# nats-server with the client user and password from secret files: the password goes
# into a configuration file readable only by the server's user, never onto argv.
set -eu
user="${SMART_METER_NATS_USERNAME:-smart_meter}"
password="$(tr -d '\r\n' < "${SMART_METER_NATS_PASSWORD_FILE}")"
config="${HOME}/nats-auth.conf"
umask 077
printf 'authorization {\n  user: "%s"\n  password: "%s"\n}\n' "${user}" "${password}" > "${config}"
exec nats-server -c "${config}" "$@"
