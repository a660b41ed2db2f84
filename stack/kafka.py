"""Apache Kafka in KRaft mode (one combined broker + controller), from Maven Central jars."""

from __future__ import annotations

import base64
import logging
import uuid
from pathlib import Path

from confluent_kafka.admin import AdminClient

from smart_meter.subjects import DEFAULT_PARTITIONS
from stack.base import LocalService, run_checked
from stack.errors import StackError
from stack.java import classpath, java_binary, resolve_jars

KAFKA_VERSION = "4.3.1"
LOG4J_VERSION = "2.25.3"
JAVA_MAJOR = 17
COORDINATES = [
    f"org.apache.kafka:kafka_2.13:{KAFKA_VERSION}",
    # Kafka 4 logs through SLF4J 1.7 and ships no backend: log4j2 with its 1.x bridge.
    f"org.apache.logging.log4j:log4j-slf4j-impl:{LOG4J_VERSION}",
    f"org.apache.logging.log4j:log4j-core:{LOG4J_VERSION}",
]
LOG4J2_PROPERTIES = """\
status = warn
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.target = SYSTEM_OUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.state.name = state.change.logger
logger.state.level = WARN
logger.clients.name = org.apache.kafka.clients
logger.clients.level = WARN
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = WARN
"""
_health_log = logging.getLogger(__name__)


def new_cluster_id() -> str:
    """A random cluster id in Kafka's form (URL-safe base64 of 16 bytes, no padding)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


class KafkaService(LocalService):
    """A single Kafka node (``process.roles=broker,controller``) with its data under state."""

    name = "kafka"
    start_timeout_s = 90.0

    def ports(self) -> list[int]:
        return [self.settings.kafka_port, self.settings.kafka_controller_port]

    @property
    def lib_dir(self) -> Path:
        return self.install_dir / "lib"

    @property
    def config_file(self) -> Path:
        return self.service_dir / "server.properties"

    @property
    def log4j_file(self) -> Path:
        return self.service_dir / "log4j2.properties"

    def install(self) -> None:
        java_binary(self.name, JAVA_MAJOR)
        resolve_jars(self.name, COORDINATES, self.install_dir)

    def server_properties(self) -> dict[str, str]:
        """The broker's configuration: one node, replication factor 1 everywhere."""
        broker = f"{self.host}:{self.settings.kafka_port}"
        controller = f"{self.host}:{self.settings.kafka_controller_port}"
        return {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": controller,
            "listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": str(DEFAULT_PARTITIONS),
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            # The default 128 MiB compaction buffer is a quarter of the small heap.
            "log.cleaner.dedupe.buffer.size": str(32 * 1024 * 1024),
        }

    def prepare(self) -> None:
        lines = [f"{key}={value}" for key, value in self.server_properties().items()]
        self.config_file.write_text("\n".join(lines) + "\n")
        self.log4j_file.write_text(LOG4J2_PROPERTIES)
        if not (self.data_dir / "meta.properties").exists():
            self.format_storage()

    def format_storage(self) -> None:
        """Write the KRaft metadata of a new one-node cluster into :attr:`data_dir`."""
        argv = [
            *self.java_argv(),
            "kafka.tools.StorageTool",
            "format",
            "--cluster-id", new_cluster_id(),
            "--config", str(self.config_file),
            "--standalone",
        ]  # fmt: skip
        run_checked(argv, what=f"{self.name}: formatting {self.data_dir}", timeout_s=120)

    def java_argv(self, heap_mb: int = 128, *options: str) -> list[str]:
        """``java`` with a heap, ``options``, the log4j2 configuration and the classpath."""
        jars = classpath(self.lib_dir)
        if not jars:
            raise StackError(f"{self.name}: no jars in {self.lib_dir}; run install first")
        return [
            java_binary(self.name, JAVA_MAJOR),
            f"-Xms{heap_mb}m",
            f"-Xmx{heap_mb}m",
            *options,
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.log4j_file}",
            # Else log4j stops at SIGTERM and drops the lines of Kafka's own shutdown.
            "-Dlog4j2.shutdownHookEnabled=false",
            "-cp",
            jars,
        ]

    def command(self) -> list[str]:
        return [
            *self.java_argv(
                self.settings.kafka_heap_mb,
                "-XX:+UseG1GC",
                "-XX:MaxGCPauseMillis=20",
                "-XX:InitiatingHeapOccupancyPercent=35",
                "-XX:+ExplicitGCInvokesConcurrent",
                "-XX:+ExitOnOutOfMemoryError",
            ),
            "kafka.Kafka",
            str(self.config_file),
        ]

    def check_health(self) -> str:
        # A Python logger keeps librdkafka's "connection refused" lines off our stderr.
        admin = AdminClient({"bootstrap.servers": self.address}, logger=_health_log)
        metadata = admin.list_topics(timeout=5)
        if not metadata.brokers:
            raise StackError(f"{self.name}: no broker registered yet")
        return f"Kafka {KAFKA_VERSION} KRaft, {len(metadata.topics)} topics"
