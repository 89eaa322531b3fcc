"""Busy-loop processes that compete with the pipeline for the CPU; each ends by itself after a bound."""

from __future__ import annotations

import subprocess
import sys

LOOP = "import sys, time\nend = time.monotonic() + float(sys.argv[1])\nwhile time.monotonic() < end:\n    pass\n"


class CpuHog:
    def __init__(self, processes: int = 1, limit_s: float = 900.0) -> None:
        self.processes, self.limit_s = processes, limit_s
        self.procs: list[subprocess.Popen] = []

    def start(self) -> "CpuHog":
        self.procs = [subprocess.Popen([sys.executable, "-c", LOOP, str(self.limit_s)]) for _ in range(self.processes)]
        return self

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        self.procs = []
