"""An isolated pipeline of real processes on the real broker and Redis.

Each Pipeline gets its own topic namespace, Redis key prefix, state directory and ports, so tests
never see each other's data or a running demo stack. Services are the installed console scripts,
started as subprocesses exactly as deploy/local/services.sh starts them.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import redis
from kafka import KafkaAdminClient, KafkaConsumer

from shared.settings import CommonSettings
from shared.topic_reader import partitions, read_to_end

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SERVICES = ("ingest", "scoring", "publisher")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Pipeline:
    def __init__(self, workdir: Path, bootstrap: str | None = None, redis_url: str | None = None,
                 extra_env: dict[str, str] | None = None,
                 service_env: dict[str, dict[str, str]] | None = None) -> None:
        defaults = CommonSettings()  # the broker and Redis the test run was pointed at
        self.namespace = f"it-{uuid.uuid4().hex[:10]}"
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.bootstrap = bootstrap or defaults.kafka.bootstrap_servers
        redis_url = redis_url or defaults.redis.url
        self.redis_url = redis_url
        self.ports = {name: free_port() for name in SERVICES}
        self.procs: dict[str, subprocess.Popen] = {}
        self.env = {
            **os.environ,
            "NOF_ENVIRONMENT": "test",
            "NOF_TOPIC_NAMESPACE": self.namespace,
            "NOF_REDIS_KEY_PREFIX": self.namespace,
            "NOF_REDIS_URL": redis_url,
            "NOF_KAFKA_BOOTSTRAP_SERVERS": self.bootstrap,
            "NOF_LOCAL_DIR": str(workdir),
            "NOF_SCORING_DATA_DIR": str(workdir / "scoring"),
            "NOF_INGEST_PORT": str(self.ports["ingest"]),
            "NOF_SCORING_PORT": str(self.ports["scoring"]),
            "NOF_PUBLISHER_PORT": str(self.ports["publisher"]),
            "NOF_PUBLISHER_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
            **(extra_env or {}),
        }
        self.service_env = service_env or {}  # per service, e.g. its own Kafka principal
        self.redis = redis.Redis.from_url(redis_url)

    # -- topics and names ------------------------------------------------------------------------
    def topic(self, name: str) -> str:
        return f"{self.namespace}.{name}"

    def declare_topics(self) -> None:
        subprocess.run([str(BIN / "python"), "-m", "shared.kafka_admin", "declare"], env=self.env, check=True,
                       capture_output=True, cwd=ROOT, timeout=120)

    # -- processes ---------------------------------------------------------------------------------
    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, service: str, timeout: float = 90.0, instance: str | None = None) -> None:
        """Start a service; ``instance`` names a second copy (its own port and state directory)."""
        name, env = service, {**self.env, **self.service_env.get(service, {})}
        if instance:
            name = f"{service}-{instance}"
            self.ports[name] = free_port()
            env = {**env, f"NOF_{service.upper()}_PORT": str(self.ports[name]),
                   "NOF_SCORING_DATA_DIR": str(self.workdir / name)}
        with open(self.workdir / f"{name}.log", "ab") as log:  # the child keeps its own descriptor
            self.procs[name] = subprocess.Popen([str(BIN / f"nof-{service}")], env=env, cwd=ROOT,
                                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_healthy(name, timeout)

    def wait_healthy(self, service: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            proc = self.procs[service]
            if proc.poll() is not None:
                raise RuntimeError(f"{service} exited with {proc.returncode}:\n{self.log_tail(service)}")
            try:
                if httpx.get(f"{self.url(service)}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise TimeoutError(f"{service} not healthy after {timeout} s:\n{self.log_tail(service)}")

    def kill(self, service: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(service)
        proc.send_signal(sig)
        proc.wait(timeout=30)

    def log_tail(self, service: str, lines: int = 40) -> str:
        path = self.workdir / f"{service}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self) -> None:
        for service in list(self.procs):
            proc = self.procs.pop(service)
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)

    def cleanup(self) -> None:
        self.stop()
        # The read model's keys, and ingest's ledger, whose keys carry a hash tag ({namespace:ingest}:...).
        for pattern in (f"{self.namespace}:*", f"{{{self.namespace}:*"):
            keys = list(self.redis.scan_iter(pattern, count=1000))
            for i in range(0, len(keys), 1000):
                self.redis.unlink(*keys[i:i + 1000])
        try:
            admin = KafkaAdminClient(bootstrap_servers=[self.bootstrap], request_timeout_ms=10_000)
            try:
                names = [t for t in admin.list_topics() if t.startswith(self.namespace)]
                if names:
                    admin.delete_topics(names)
            finally:
                admin.close()
        except Exception:  # a broker already stopped by a fault test has nothing left to clean
            pass

    # -- the public interfaces ---------------------------------------------------------------------
    @property
    def ingest_key(self) -> str:
        return (self.workdir / "ingest-dev-key").read_text().strip()

    def post_observations(self, items: list[dict[str, Any]], timeout: float = 30) -> httpx.Response:
        return httpx.post(f"{self.url('ingest')}/v1/observations", json={"observations": items},
                          headers={"Authorization": f"Bearer {self.ingest_key}"}, timeout=timeout)

    def put_finance(self, code: str, in_deficit: bool | None, support: bool = False) -> httpx.Response:
        return httpx.put(f"{self.url('ingest')}/v1/trusts/{code}/finance",
                         json={"in_deficit": in_deficit, "receives_deficit_support": support},
                         headers={"Authorization": f"Bearer {self.ingest_key}"}, timeout=30)

    def league(self, slug: str) -> dict[str, Any] | None:
        raw = self.redis.get(f"{self.namespace}:league:{slug}")
        return None if raw is None else json.loads(raw)

    def read_topic(self, name: str, timeout_s: float = 30.0) -> list[Any]:
        """Every record of a namespaced topic from the beginning to its current end, in partition order."""
        consumer = KafkaConsumer(bootstrap_servers=[self.bootstrap], enable_auto_commit=False)
        try:
            topic = self.topic(name)
            return list(read_to_end(consumer, partitions(consumer, topic), timeout_s=timeout_s))
        finally:
            consumer.close()


@contextmanager
def running(workdir: Path, services: tuple[str, ...] = SERVICES, extra_env: dict[str, str] | None = None
            ) -> Iterator[Pipeline]:
    """A pipeline with its topics declared and ``services`` started; cleaned up afterwards."""
    p = Pipeline(workdir, extra_env=extra_env)
    try:
        p.declare_topics()
        for service in services:
            p.start(service)
        yield p
    finally:
        p.cleanup()
