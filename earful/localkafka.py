"""A real, single-node Apache Kafka broker (KRaft) for development and tests.

``earful kafka up`` resolves the broker's jars from Maven Central with ``mvn``
into the user's cache directory (so later starts are offline), formats KRaft
storage once, starts a combined broker + controller on 127.0.0.1 with a small
heap, and waits until it answers. ``down`` stops it with SIGTERM (a controlled
shutdown) and SIGKILL only after a timeout. Both are idempotent.

Layout under ``$EARFUL_CACHE_DIR`` (default ``$XDG_CACHE_HOME/earful`` or
``~/.cache/earful``)::

    kafka-<version>/libs/*.jar     resolved once per version
    broker-<port>/                 one running broker per client port
        server.properties log4j2.properties broker.pid
        data/ logs/
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from earful.errors import LocalKafkaError, MissingToolError, PortInUseError

__all__ = [
    "KAFKA_VERSION",
    "LocalKafka",
    "cache_dir",
    "new_cluster_id",
    "wait_for_kafka",
]

KAFKA_VERSION = "4.3.0"
LOG4J_VERSION = "2.25.4"
DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies"

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.earful.local</groupId><artifactId>kafka-broker-classpath</artifactId>
  <version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <!-- core leaves the logging backend out; without the slf4j 1.7 binding the broker is silent -->
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId>
      <version>{log4j}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-api</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """status = warn
name = earful-kafka
appender.server.type = File
appender.server.name = SERVER
appender.server.fileName = ${sys:kafka.logs.dir:-logs}/server.log
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.server.ref = SERVER
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
"""

# Single-node values: internal topics must not ask for 3 replicas or the group
# coordinator never appears and consumers hang without an error.
_SERVER_PROPERTIES = """process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:{controller_port}
listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
advertised.listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs={data_dir}
num.partitions=3
default.replication.factor=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=2
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=2
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
background.threads=4
num.recovery.threads.per.data.dir=1
log.cleaner.dedupe.buffer.size=33554432
"""


def cache_dir() -> Path:
    """Where jars and broker state live."""
    explicit = os.environ.get("EARFUL_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "earful"


def new_cluster_id() -> str:
    """A Kafka cluster id: URL-safe unpadded base64 of 16 random bytes, no leading '-'."""
    while True:
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cid.startswith("-"):
            return cid


def _port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_kafka(
    bootstrap: str, timeout_s: float = 120.0, proc: subprocess.Popen[bytes] | None = None
) -> None:
    """Block until a broker at ``bootstrap`` answers a metadata request."""
    from kafka import KafkaAdminClient
    from kafka.errors import KafkaError

    host, port = bootstrap.split(",")[0].rsplit(":", 1)
    deadline = time.monotonic() + timeout_s
    last: BaseException | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise LocalKafkaError(f"broker exited early with code {proc.returncode}")
        if _port_open(host, int(port)):
            try:
                admin = KafkaAdminClient(
                    bootstrap_servers=bootstrap,
                    bootstrap_timeout_ms=5000,
                    request_timeout_ms=5000,
                    client_id="earful-wait",
                )
                try:
                    if admin.describe_cluster().get("brokers"):
                        return
                finally:
                    admin.close()
            except (OSError, KafkaError) as exc:
                last = exc
        time.sleep(0.3)
    raise LocalKafkaError(f"Kafka did not answer at {bootstrap} within {timeout_s:.0f}s ({last!r})")


@dataclass(frozen=True)
class LocalKafka:
    """One local broker, identified by its client port."""

    port: int = 9092
    controller_port: int = 9093
    root: Path | None = None
    heap_mb: int = 512
    #: Where this broker keeps its config, data and logs; default under the cache.
    state_dir: Path | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def base(self) -> Path:
        return self.root if self.root is not None else cache_dir()

    @property
    def libs_dir(self) -> Path:
        return self.base / f"kafka-{KAFKA_VERSION}" / "libs"

    @property
    def home(self) -> Path:
        return self.state_dir if self.state_dir is not None else self.base / f"broker-{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.home / "broker.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "logs" / "server.log"

    # -- set-up ---------------------------------------------------------------

    def check_tools(self, *, need_maven: bool) -> str:
        java = shutil.which("java")
        if java is None:
            raise MissingToolError(
                "java not found on PATH: the local Kafka broker needs Java 17 or newer "
                "(Debian: apt-get install openjdk-17-jre-headless), "
                "or set EARFUL_KAFKA_BOOTSTRAP to use an existing cluster"
            )
        if need_maven and shutil.which("mvn") is None:
            raise MissingToolError(
                "mvn not found on PATH: Maven resolves the broker's jars from Maven Central "
                "the first time (Debian: apt-get install maven), "
                "or set EARFUL_KAFKA_BOOTSTRAP to use an existing cluster"
            )
        return java

    def _jars_ready(self) -> bool:
        marker = self.libs_dir / ".complete"
        return marker.exists() and any(self.libs_dir.glob("kafka_2.13-*.jar"))

    def resolve_jars(self) -> Path:
        """Fetch the broker classpath with Maven once; later calls are offline."""
        if self._jars_ready():
            return self.libs_dir
        self.check_tools(need_maven=True)
        work = self.libs_dir.parent
        work.mkdir(parents=True, exist_ok=True)
        pom = work / "pom.xml"
        pom.write_text(_POM.format(kafka=KAFKA_VERSION, log4j=LOG4J_VERSION), encoding="utf-8")
        tmp = work / "libs.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        cmd = [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(pom),
            DEPENDENCY_PLUGIN,
            "-DincludeScope=runtime",
            f"-DoutputDirectory={tmp}",
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            tail = (result.stdout + result.stderr)[-2000:]
            raise LocalKafkaError(f"mvn could not resolve Kafka {KAFKA_VERSION} jars:\n{tail}")
        shutil.rmtree(self.libs_dir, ignore_errors=True)
        tmp.rename(self.libs_dir)
        (self.libs_dir / ".complete").write_text(KAFKA_VERSION, encoding="utf-8")
        return self.libs_dir

    def _write_config(self) -> Path:
        (self.home / "logs").mkdir(parents=True, exist_ok=True)
        props = self.home / "server.properties"
        props.write_text(
            _SERVER_PROPERTIES.format(
                port=self.port,
                controller_port=self.controller_port,
                data_dir=self.home / "data",
            ),
            encoding="utf-8",
        )
        (self.home / "log4j2.properties").write_text(_LOG4J2, encoding="utf-8")
        return props

    def _java_base(self, java: str) -> list[str]:
        return [
            java,
            f"-Dkafka.logs.dir={self.home / 'logs'}",
            f"-Dlog4j2.configurationFile=file:{self.home / 'log4j2.properties'}",
            "-Djava.awt.headless=true",
        ]

    def _format(self, java: str, props: Path) -> None:
        if (self.home / "data" / "meta.properties").exists():
            return
        cmd = [
            *self._java_base(java),
            "-Xmx256m",
            "-cp",
            f"{self.libs_dir}/*",
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            # One node is the only copy of every partition. With eligible leader replicas
            # (Kafka 4's default) a crash took that node out of every ISR, and its restart
            # went through unclean leader recovery, which once repeated committed records;
            # without them the node stays the ISR and is elected back cleanly.
            "--feature",
            "eligible.leader.replicas.version=0",
            "-t",
            new_cluster_id(),
            "-c",
            str(props),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LocalKafkaError(f"formatting KRaft storage failed:\n{result.stderr[-2000:]}")

    # -- lifecycle ------------------------------------------------------------

    def pid(self) -> int | None:
        """The broker's pid if it is running, else None (a stale pid file is removed)."""
        try:
            pid = int(self.pid_file.read_text(encoding="utf-8").strip())
        except (FileNotFoundError, ValueError):
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            self.pid_file.unlink(missing_ok=True)
            return None
        except PermissionError:
            return pid
        if _is_zombie(pid):
            self.pid_file.unlink(missing_ok=True)
            return None
        return pid

    def status(self) -> str:
        pid = self.pid()
        if pid is None:
            return "stopped"
        return "running" if _port_open("127.0.0.1", self.port) else "starting"

    def up(self, *, timeout_s: float = 120.0, fresh: bool = False) -> str:
        """Start the broker if it is not running; return its bootstrap address."""
        if self.pid() is not None:
            wait_for_kafka(self.bootstrap, timeout_s=timeout_s)
            return self.bootstrap
        java = self.check_tools(need_maven=not self._jars_ready())
        for port in (self.port, self.controller_port):
            if _port_open("127.0.0.1", port, timeout=0.3):
                raise PortInUseError(
                    f"port {port} on 127.0.0.1 is already in use by another process; "
                    "stop it, choose other ports (--port, --controller-port), "
                    "or point EARFUL_KAFKA_BOOTSTRAP at that cluster"
                )
        self.resolve_jars()
        if fresh:
            shutil.rmtree(self.home / "data", ignore_errors=True)
        props = self._write_config()
        self._format(java, props)
        cmd = [
            *self._java_base(java),
            f"-Xms{min(256, self.heap_mb)}m",
            f"-Xmx{self.heap_mb}m",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-XX:+ExplicitGCInvokesConcurrent",
            "-cp",
            f"{self.libs_dir}/*",
            "kafka.Kafka",
            str(props),
        ]
        out = (self.home / "logs" / "stdout.log").open("ab")
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the CLI that started it
        )
        out.close()
        _STARTED[proc.pid] = proc  # keep the handle so down() can reap it
        self.pid_file.write_text(str(proc.pid), encoding="utf-8")
        try:
            wait_for_kafka(self.bootstrap, timeout_s=timeout_s, proc=proc)
        except LocalKafkaError as exc:
            self.down()
            raise LocalKafkaError(f"{exc}; see {self.log_file}") from exc
        return self.bootstrap

    def down(self, *, timeout_s: float = 30.0) -> bool:
        """Stop the broker; return False if it was not running."""
        pid = self.pid()
        if pid is None:
            return False
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not _alive(pid):
                break
            time.sleep(0.2)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        started = _STARTED.pop(pid, None)
        if started is not None:
            started.wait(timeout=5)
        self.pid_file.unlink(missing_ok=True)
        return True

    # -- faults, for tests --------------------------------------------------

    def kill(self) -> None:
        """SIGKILL the broker, as a crash would: no controlled shutdown, data left as it is."""
        pid = self.pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        started = _STARTED.pop(pid, None)
        if started is not None:
            started.wait(timeout=10)
        while _alive(pid):
            time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)

    def freeze(self, frozen: bool) -> None:
        """SIGSTOP (``True``) or SIGCONT the broker: a broker that stops answering mid-request."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGSTOP if frozen else signal.SIGCONT)


#: Brokers this process started, by pid.
_STARTED: dict[int, subprocess.Popen[bytes]] = {}


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _alive(pid: int) -> bool:
    # Reap it if it is our child, so a zombie does not look alive.
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not _is_zombie(pid)
