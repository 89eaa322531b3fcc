"""A private Kafka broker for fault tests that stop and start it, so no other test loses its broker."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.pipeline import ROOT, free_port

KAFKA_SH = ROOT / "deploy" / "local" / "kafka.sh"


class PrivateBroker:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port, self.controller_port = free_port(), free_port()
        shared_libs = Path(os.environ.get("NOF_LOCAL_DIR", ROOT / ".local")) / "kafka" / "libs"
        (workdir / "kafka").mkdir(parents=True, exist_ok=True)
        libs = workdir / "kafka" / "libs"
        if not libs.exists():
            libs.symlink_to(shared_libs)  # the jars `make install` resolved; no second download
        self.env = {**os.environ, "NOF_LOCAL_DIR": str(workdir), "NOF_KAFKA_PORT": str(self.port),
                    "NOF_KAFKA_CONTROLLER_PORT": str(self.controller_port), "NOF_KAFKA_HEAP": "256m",
                    "NOF_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.port}"}

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _run(self, action: str) -> None:
        subprocess.run(["bash", str(KAFKA_SH), action], env=self.env, check=True, timeout=180,
                       capture_output=True)

    def start(self) -> None:
        self._run("start")

    def stop(self) -> None:
        self._run("stop")
