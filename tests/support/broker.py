"""A private Kafka broker for tests that stop and start it or need it secured, so no other test loses its broker.

``PrivateBroker(workdir, secure=True)`` starts it as deploy/local/kafka.sh does with
NOF_KAFKA_SECURITY_PROTOCOL=SASL_SSL: a TLS listener, SCRAM users made at format time, ACLs per service.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.support.pipeline import ROOT, free_port

KAFKA_SH = ROOT / "deploy" / "local" / "kafka.sh"


class PrivateBroker:
    def __init__(self, workdir: Path, secure: bool = False) -> None:
        self.workdir = workdir
        self.secure = secure
        self.port, self.controller_port = free_port(), free_port()
        shared_libs = Path(os.environ.get("NOF_LOCAL_DIR", ROOT / ".local")) / "kafka" / "libs"
        (workdir / "kafka").mkdir(parents=True, exist_ok=True)
        libs = workdir / "kafka" / "libs"
        if not libs.exists():
            libs.symlink_to(shared_libs)  # the jars `make install` resolved; no second download
        self.env = {**os.environ, "NOF_LOCAL_DIR": str(workdir), "NOF_KAFKA_PORT": str(self.port),
                    "NOF_KAFKA_CONTROLLER_PORT": str(self.controller_port), "NOF_KAFKA_HEAP": "256m",
                    "NOF_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{self.port}"}
        if secure:
            self.env["NOF_KAFKA_SECURITY_PROTOCOL"] = "SASL_SSL"

    @property
    def ca_file(self) -> Path:
        return self.workdir / "kafka" / "tls" / "ca.pem"

    def password_file(self, principal: str) -> Path:
        return self.workdir / "kafka" / "credentials" / principal

    def client_env(self, principal: str) -> dict[str, str]:
        """The settings that make a process this principal (the secured broker only)."""
        return {"NOF_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "NOF_KAFKA_SASL_USERNAME": principal,
                "NOF_KAFKA_SASL_PASSWORD_FILE": str(self.password_file(principal)),
                "NOF_KAFKA_SSL_CA_FILE": str(self.ca_file)}

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
