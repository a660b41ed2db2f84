"""InfluxDB 1.x built from its Go module (``go install``), run as one local ``influxd``.

Debian's package is 1.6 (v1 API only). Built from the module proxy we get 1.13: the v1
API (``/write`` line protocol, InfluxQL on ``/query``) plus the v2 compatibility API
that ``influxdb-client`` speaks (``/api/v2/write`` with ``bucket=db/rp``, Flux on
``/api/v2/query``). From 1.9 on, Flux is a Rust library (libflux) that InfluxData's
``pkg-config`` wrapper builds with cargo, so those versions need Go, cargo and a C
compiler; 1.8 needs Go alone (set ``SMART_METER_INFLUXDB_VERSION=1.8.10``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

from stack.base import LocalService, run_checked
from stack.errors import DownloadError, StackError

INFLUXD_PACKAGE = "github.com/influxdata/influxdb/cmd/influxd"
PKG_CONFIG_WRAPPER = "github.com/influxdata/pkg-config@v0.3.0"
_NETWORK_HINTS = ("dial tcp", "i/o timeout", "no such host", "TLS handshake", "failed to get")


def go_binary() -> str:
    """The ``go`` command: on PATH first, then Go's usual install folder."""
    found = shutil.which("go") or shutil.which("go", path="/usr/local/go/bin")
    if found is None:
        raise StackError("influxdb: Go is missing (influxd is built with `go install`); install Go")
    return found


def needs_libflux(version: str) -> bool:
    """1.9 and later link Flux's Rust library; 1.8 is pure Go."""
    major, minor = (int(part) for part in version.split(".")[:2])
    return (major, minor) >= (1, 9)


class InfluxDBService(LocalService):
    """influxd on loopback: v1 API plus the v2 compatibility API, no auth, Flux on."""

    name = "influxdb"
    start_timeout_s = 60.0

    @property
    def version(self) -> str:
        return self.settings.influxdb_version

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.settings.influxdb_port}"

    @property
    def binary(self) -> Path:
        return self.install_dir / f"v{self.version}" / "bin" / "influxd"

    @property
    def config_file(self) -> Path:
        return self.service_dir / "influxdb.conf"

    def ports(self) -> list[int]:
        return [self.settings.influxdb_port, self.settings.influxdb_rpc_port]

    def install(self) -> None:
        """Build influxd once per version; a marker written after the build makes it cheap."""
        marker = self.binary.with_name("influxd.built")
        if self.binary.exists() and marker.exists():
            return
        go_env = {"GOFLAGS": "-mod=mod -buildvcs=false", "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
        if needs_libflux(self.version):
            go_env |= self._libflux_environment(go_env)
        ldflags = f"-s -w -X main.version={self.version} -X main.commit=v{self.version}"
        self._go_install(
            {**go_env, "GOBIN": str(self.binary.parent)},
            ["-ldflags", ldflags, f"{INFLUXD_PACKAGE}@v{self.version}"],
        )
        marker.write_text(self.version)

    def _libflux_environment(self, go_env: dict[str, str]) -> dict[str, str]:
        missing = [tool for tool in ("cargo", "cc") if shutil.which(tool) is None]
        if missing:
            raise StackError(
                f"influxdb: building InfluxDB {self.version} needs {' and '.join(missing)} "
                "(Flux is Rust, linked with cgo); install Rust (rustup) and gcc, "
                "or set SMART_METER_INFLUXDB_VERSION=1.8.10, which needs Go alone"
            )
        tools = self.install_dir / "tools"
        if not (tools / "pkg-config").exists():
            self._go_install({**go_env, "GOBIN": str(tools)}, [PKG_CONFIG_WRAPPER])
        return {
            "CGO_ENABLED": "1",
            "PKG_CONFIG": str(tools / "pkg-config"),
            # libflux pins an old toolchain in rust-toolchain.toml that rustup cannot fetch here.
            "RUSTUP_TOOLCHAIN": os.environ.get("RUSTUP_TOOLCHAIN", "stable"),
        }

    def _go_install(self, go_env: dict[str, str], args: list[str]) -> None:
        what = f"influxdb: go install {args[-1]}"
        assignments = [f"{key}={value}" for key, value in go_env.items()]
        try:
            run_checked(["env", *assignments, go_binary(), "install", *args], what, timeout_s=1800)
        except subprocess.TimeoutExpired as error:
            raise StackError(f"{what} took more than {error.timeout:.0f} s") from error
        except StackError as error:
            if any(hint in str(error) for hint in _NETWORK_HINTS):
                raise DownloadError(self.name, args[-1], str(error)) from error
            raise

    def prepare(self) -> None:
        self.config_file.write_text(
            CONFIG_TEMPLATE.format(
                rpc=f"{self.host}:{self.settings.influxdb_rpc_port}",
                http=f"{self.host}:{self.settings.influxdb_port}",
                data=self.data_dir,
            )
        )

    def command(self) -> list[str]:
        return [str(self.binary), "run", "-config", str(self.config_file)]

    def environment(self) -> dict[str, str]:
        # influxd reads INFLUXDB_* variables as config overrides: the file alone decides here.
        return {key: value for key, value in os.environ.items() if not key.startswith("INFLUXDB_")}

    def check_health(self) -> str:
        with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as reply:
            version = reply.headers.get("X-Influxdb-Version", "unknown")
        body = urllib.parse.urlencode({"q": "SHOW DATABASES"}).encode()
        with urllib.request.urlopen(f"{self.url}/query", data=body, timeout=5) as reply:
            result = json.load(reply)["results"][0]
        if "error" in result:
            raise StackError(f"influxdb: SHOW DATABASES failed: {result['error']}")
        return f"InfluxDB {version}"


CONFIG_TEMPLATE = """\
reporting-disabled = true
bind-address = "{rpc}"

[meta]
  dir = "{data}/meta"

[data]
  dir = "{data}/data"
  wal-dir = "{data}/wal"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "{http}"
  auth-enabled = false
  log-enabled = true
  suppress-write-log = true
  flux-enabled = true
  pprof-enabled = false
  unix-socket-enabled = false

[logging]
  format = "logfmt"
  level = "info"
  suppress-logo = true

[[graphite]]
  enabled = false

[[collectd]]
  enabled = false

[[opentsdb]]
  enabled = false

[[udp]]
  enabled = false
"""
