"""dockerfiles/cassandra-server/*.sh, run with bash against temporary files: the Cassandra of the
Compose and Swarm stacks refuses to start without its secrets and requires a password.

The official Cassandra image cannot be pulled here: the scripts hand over to ``env`` (a
stand-in for the image's entrypoint, which only prints what it was given) and the tests
edit a cassandra.yaml in a temporary folder instead of the image's.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from stack.settings import PROJECT_ROOT

SCRIPTS = PROJECT_ROOT / "dockerfiles" / "cassandra-server"
BASH = shutil.which("bash") or "/bin/bash"
DEFAULT_YAML = """cluster_name: 'Test Cluster'
# authenticator:
#   class_name : org.apache.cassandra.auth.AllowAllAuthenticator
authenticator:
  class_name : org.apache.cassandra.auth.AllowAllAuthenticator
  parameters :
    validator_class_name: org.example.Any
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
num_tokens: 16
"""


@pytest.fixture
def server(tmp_path: Path) -> dict[str, str]:
    """The environment of the Cassandra container: a cassandra.yaml and two secret files."""
    (tmp_path / "cassandra.yaml").write_text(DEFAULT_YAML)
    for name in ("cassandra_password", "cassandra_admin_password"):
        (tmp_path / name).write_text(f"generated-{name}\n")
    return {
        "PATH": "/usr/bin:/bin",
        "SMART_METER_CASSANDRA_YAML": str(tmp_path / "cassandra.yaml"),
        "SMART_METER_CASSANDRA_PASSWORD_FILE": str(tmp_path / "cassandra_password"),
        "SMART_METER_CASSANDRA_ADMIN_PASSWORD_FILE": str(tmp_path / "cassandra_admin_password"),
        "SMART_METER_CASSANDRA_NEXT": "echo",
    }


def run(script: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [BASH, str(SCRIPTS / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_server_requires_a_password_and_then_starts(server: dict[str, str]) -> None:
    result = run("entrypoint.sh", server, "cassandra", "-f")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "cassandra -f"  # handed over with its arguments
    yaml = Path(server["SMART_METER_CASSANDRA_YAML"]).read_text()
    assert "authenticator: PasswordAuthenticator\n" in yaml
    assert "authorizer: CassandraAuthorizer\n" in yaml
    assert "AllowAll" not in yaml.replace("#   class_name : org.apache.cassandra.auth.All", "")
    assert "validator_class_name" not in yaml  # the old block went with its key
    assert "role_manager: CassandraRoleManager\nnum_tokens: 16\n" in yaml
    assert yaml.count("authenticator:") == 2  # ours and the comment

    again = run("entrypoint.sh", server, "cassandra", "-f")  # a restarted container
    assert again.returncode == 0, again.stderr
    assert Path(server["SMART_METER_CASSANDRA_YAML"]).read_text() == yaml


@pytest.mark.parametrize("variable", ["PASSWORD", "ADMIN_PASSWORD"])
@pytest.mark.parametrize("problem", ["empty", "missing", "unset"])
@pytest.mark.parametrize("script", ["entrypoint.sh", "init.sh"])
def test_an_empty_or_missing_secret_stops_it_with_one_line(
    server: dict[str, str], variable: str, problem: str, script: str
) -> None:
    key = f"SMART_METER_CASSANDRA_{variable}_FILE"
    if problem == "empty":
        Path(server[key]).write_text("\n")
    elif problem == "missing":
        Path(server[key]).unlink()
    else:
        del server[key]
    result = run(script, server, "cassandra", "-f")
    assert result.returncode == 64
    assert result.stdout == ""  # never handed over to Cassandra
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and key in lines[0]
    assert "python -m stack.credentials" in lines[0]
    assert "AllowAllAuthorizer" in Path(server["SMART_METER_CASSANDRA_YAML"]).read_text()


def test_the_init_step_refuses_a_role_name_it_would_have_to_quote(
    server: dict[str, str],
) -> None:
    server["SMART_METER_CASSANDRA_USERNAME"] = "smart_meter; DROP ROLE cassandra"
    result = run("init.sh", server)
    assert result.returncode == 64
    assert len(result.stderr.splitlines()) == 1


FAKE_CQLSH = """#!/bin/bash
# stand-in for cqlsh (no Cassandra image here): the superuser's password is a file; a
# login is accepted when the cqlshrc holds it; ALTER ROLE cassandra changes it
state="$(dirname "$0")"
while [ $# -gt 0 ]; do
    case "$1" in --cqlshrc) rc="$2"; shift ;; -f) cql="$2"; shift ;; esac; shift
done
given="$(sed -n '3s/^[a-z]* = //p' "$rc")"  # line 3 of the cqlshrc: the secret
echo "login ${given}" >> "${state}/log"
[ "${given}" = "$(cat "${state}/superuser")" ] || { echo "AuthenticationFailed"; exit 2; }
cat "${cql}" >> "${state}/log"
new="$(sed -n "s/^ALTER ROLE cassandra WITH PASSWORD = '\\\\(.*\\\\)';$/\\\\1/p" "${cql}")"
[ -z "${new}" ] || printf '%s' "${new}" > "${state}/superuser"
"""


def test_the_init_step_uses_the_default_login_on_first_boot_only(
    server: dict[str, str], tmp_path: Path
) -> None:
    """cqlsh is a stand-in here (see FAKE_CQLSH): what is proven is the order of logins and
    statements, not that Cassandra accepts them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "cqlsh").write_text(FAKE_CQLSH)
    (bin_dir / "cqlsh").chmod(0o755)
    (bin_dir / "superuser").write_text("cassandra")  # the image's public first-boot login
    server["PATH"] = f"{bin_dir}:{server['PATH']}"
    admin = Path(server["SMART_METER_CASSANDRA_ADMIN_PASSWORD_FILE"]).read_text().strip()
    platform = Path(server["SMART_METER_CASSANDRA_PASSWORD_FILE"]).read_text().strip()

    first = run("init.sh", server)
    assert first.returncode == 0, first.stderr + first.stdout
    assert (bin_dir / "superuser").read_text() == admin  # the default password is gone
    log = (bin_dir / "log").read_text()
    assert "login cassandra\n" in log
    assert (
        f"CREATE ROLE IF NOT EXISTS smart_meter WITH LOGIN = true AND PASSWORD = '{platform}'"
        in log
    )
    assert "GRANT ALL PERMISSIONS ON ALL KEYSPACES TO smart_meter" in log
    assert log.index(f"WITH PASSWORD = '{admin}'") < log.index("CREATE ROLE")

    (bin_dir / "log").unlink()
    second = run("init.sh", server)  # a restarted stack: the admin secret works at once
    assert second.returncode == 0, second.stderr + second.stdout
    log = (bin_dir / "log").read_text()
    assert "login cassandra\n" not in log
    assert log.count("login ") == 2 and "ALTER ROLE cassandra" not in log
    assert "CREATE ROLE IF NOT EXISTS smart_meter" in log
