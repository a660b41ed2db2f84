"""Apache Cassandra 5.0, single node, from Maven Central jars on JDK 17."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from stack.base import LocalService
from stack.errors import StackError
from stack.java import classpath, java_binary, resolve_jars

CASSANDRA_VERSION = "5.0.9"
_COORDINATES = [f"org.apache.cassandra:cassandra-all:{CASSANDRA_VERSION}"]
_MAIN_CLASS = "org.apache.cassandra.service.CassandraDaemon"
_INITIAL_HEAP_MB = 256

# From Cassandra 5.0's conf/jvm-server.options, minus -XX:+AlwaysPreTouch (it would
# fault in the whole heap at start: slower, and all of -Xmx as RSS on a laptop).
_SERVER_FLAGS = [
    "-ea", "-da:net.openhft...", "-XX:+UseThreadPriorities", "-XX:+HeapDumpOnOutOfMemoryError",
    "-Xss256k", "-XX:+UseTLAB", "-XX:+ResizeTLAB", "-XX:+UseNUMA", "-XX:+PerfDisableSharedMem",
    "-Djava.net.preferIPv4Stack=true", "-XX:+ExitOnOutOfMemoryError",
]  # fmt: skip
# From Cassandra 5.0's conf/jvm17-server.options: G1, JPMS exports/opens, Netty.
_JDK17_FLAGS = [
    "-XX:+UseG1GC", "-XX:+ParallelRefProcEnabled", "-XX:MaxTenuringThreshold=1",
    "-XX:G1HeapRegionSize=16m", "-XX:G1RSetUpdatingPauseTimePercent=5",
    "-XX:MaxGCPauseMillis=300", "-XX:InitiatingHeapOccupancyPercent=70",
    "-Djdk.attach.allowAttachSelf=true", "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.useCacheForAllThreads=true", "-Dio.netty.allocator.maxOrder=11",
]  # fmt: skip
_EXPORTS = [
    "java.base/jdk.internal.misc", "java.management.rmi/com.sun.jmx.remote.internal.rmi",
    "java.rmi/sun.rmi.registry", "java.rmi/sun.rmi.server", "java.sql/java.sql",
    "java.base/java.lang.ref", "jdk.unsupported/sun.misc",
    "jdk.compiler/com.sun.tools.javac.file", "jdk.attach/sun.tools.attach",
]  # fmt: skip
_OPENS = [
    "java.base/java.lang.module", "java.base/jdk.internal.loader", "java.base/jdk.internal.ref",
    "java.base/jdk.internal.reflect", "java.base/jdk.internal.math",
    "java.base/jdk.internal.module", "java.base/jdk.internal.util.jar",
    "jdk.management/com.sun.management.internal", "java.base/sun.nio.ch", "java.base/java.io",
    "java.base/java.lang.reflect", "jdk.compiler/com.sun.tools.javac", "java.base/java.lang",
    "java.base/java.util", "java.base/java.nio",
]  # fmt: skip
_JPMS_FLAGS = [
    *(f"--add-exports={module}=ALL-UNNAMED" for module in _EXPORTS),
    *(f"--add-opens={module}=ALL-UNNAMED" for module in _OPENS),
]

_YAML = """\
cluster_name: smart-meter
num_tokens: 16
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{host}:{storage_port}"
listen_address: {host}
rpc_address: {host}
storage_port: {storage_port}
native_transport_port: {port}
start_native_transport: true
data_file_directories: ["{data}/data"]
commitlog_directory: "{data}/commitlog"
saved_caches_directory: "{data}/saved_caches"
hints_directory: "{data}/hints"
cdc_raw_directory: "{data}/cdc_raw"
commitlog_sync: periodic
commitlog_sync_period: 10000ms
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
storage_compatibility_mode: NONE
auto_snapshot: false
memtable_heap_space: 64MiB
memtable_offheap_space: 64MiB
key_cache_size: 8MiB
counter_cache_size: 4MiB
file_cache_size: 32MiB
networking_cache_size: 16MiB
concurrent_reads: 4
concurrent_writes: 4
concurrent_counter_writes: 4
concurrent_materialized_view_writes: 4
concurrent_compactors: 1
native_transport_max_threads: 32
"""

_LOGBACK = """\
<configuration scan="false">
  <appender name="STDOUT" class="ch.qos.logback.core.ConsoleAppender">
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <logger name="org.apache.cassandra" level="INFO"/>
  <logger name="com.datastax" level="WARN"/>
  <root level="INFO"><appender-ref ref="STDOUT"/></root>
</configuration>
"""


class CassandraService(LocalService):
    """One Cassandra node on loopback; JMX is off (no port besides CQL and storage)."""

    name: ClassVar[str] = "cassandra"
    start_timeout_s: ClassVar[float] = 180.0
    stop_timeout_s: ClassVar[float] = 90.0

    def ports(self) -> list[int]:
        return [self.settings.cassandra_port, self.settings.cassandra_storage_port]

    @property
    def conf_dir(self) -> Path:
        return self.service_dir / "conf"

    @property
    def lib_dir(self) -> Path:
        return self.install_dir / "lib"

    def install(self) -> None:
        """Resolve cassandra-all and its runtime jars (jamm among them) with Maven."""
        resolve_jars(self.name, _COORDINATES, self.install_dir)
        self.jamm_jar()

    def jamm_jar(self) -> Path:
        """The jamm agent jar that cassandra-all depends on (Cassandra needs it as -javaagent)."""
        jars = sorted(self.lib_dir.glob("jamm-*.jar"))
        if not jars:
            raise StackError(
                f"cassandra: no jamm jar in {self.lib_dir}; delete {self.install_dir} and run "
                "`python start_services.py up` again"
            )
        return jars[-1]

    def prepare(self) -> None:
        """Write cassandra.yaml and logback.xml into the service's conf folder."""
        (self.conf_dir / "triggers").mkdir(parents=True, exist_ok=True)
        for sub in ("data", "commitlog", "saved_caches", "hints", "cdc_raw"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)
        yaml = _YAML.format(
            host=self.host,
            port=self.settings.cassandra_port,
            storage_port=self.settings.cassandra_storage_port,
            data=self.data_dir.resolve(),
        )
        (self.conf_dir / "cassandra.yaml").write_text(yaml)
        (self.conf_dir / "logback.xml").write_text(_LOGBACK)

    def command(self) -> list[str]:
        """``java`` with Cassandra 5.0's own JDK 17 server flags, in the foreground."""
        heap_mb = self.settings.cassandra_heap_mb
        conf = self.conf_dir.resolve()
        return [
            java_binary(self.name, 17),
            # Not -Xms = -Xmx: Cassandra mlockall()s at start (it succeeds as root), which
            # pins the whole committed heap as RSS; a small -Xms keeps that small.
            f"-Xms{min(heap_mb, _INITIAL_HEAP_MB)}m",
            f"-Xmx{heap_mb}m",
            *_SERVER_FLAGS,
            *_JDK17_FLAGS,
            *_JPMS_FLAGS,
            f"-javaagent:{self.jamm_jar()}",
            f"-Dcassandra.config={(conf / 'cassandra.yaml').as_uri()}",
            f"-Dlogback.configurationFile={(conf / 'logback.xml').as_uri()}",
            f"-Dcassandra.storagedir={self.data_dir.resolve()}",
            f"-Dcassandra.logdir={self.service_dir.resolve()}",
            f"-Dcassandra.triggers_dir={conf / 'triggers'}",
            "-Dcassandra-foreground=yes",
            "-cp",
            os.pathsep.join([str(conf), classpath(self.lib_dir)]),
            _MAIN_CLASS,
        ]

    def environment(self) -> dict[str, str]:
        """Ours, plus glibc arena cap that cassandra-env.sh sets (less native memory)."""
        return {**os.environ, "MALLOC_ARENA_MAX": "4"}

    def check_health(self) -> str:
        """``SELECT release_version FROM system.local`` through the Python driver."""
        from cassandra.cluster import Cluster  # noqa: PLC0415 - heavy import, only when used

        cluster = Cluster(
            [self.host],
            port=self.settings.cassandra_port,
            connect_timeout=3,
            control_connection_timeout=3,
        )
        try:
            session = cluster.connect()
            row = session.execute("SELECT release_version FROM system.local", timeout=5).one()
        finally:
            cluster.shutdown()
        if row is None:
            raise StackError("cassandra: system.local returned no row")
        return f"Cassandra {row.release_version}"
