"""The methodology package and the CLI import no Kafka, Redis or HTTP library."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
FORBIDDEN = ("kafka", "aiokafka", "faust", "redis", "httpx", "fastapi", "starlette",
             "requests", "urllib3", "aiohttp", "pydantic")


def _top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:  # module level only: lazy imports allowed
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_no_forbidden_imports_in_source():
    # The methodology core, and the CLI modules every `nof` invocation imports; libraries behind a
    # command (nof/demo: an HTTP replayer) are imported lazily by that command alone.
    sources = [*(ROOT / "shared/methodology").rglob("*.py"), *(ROOT / "nof").glob("*.py"),
               *(ROOT / "nof/commands").glob("*.py")]
    for path in sources:
        bad = _top_level_imports(path) & set(FORBIDDEN)
        assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_no_forbidden_modules_loaded():
    code = ("import sys, shared.methodology, nof.cli; nof.cli.build_parser(); "
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True, env={"PYTHONPATH": str(ROOT)})
    assert out.stdout.strip() == "[]"


def test_methodology_uses_only_stdlib_and_computation_libraries():
    # sortedcontainers keeps metric groups in order; numpy draws the likely-range bootstrap.
    allowed = set(sys.stdlib_module_names) | {"sortedcontainers", "numpy", "shared"}
    for path in (ROOT / "shared/methodology").rglob("*.py"):
        assert _top_level_imports(path) <= allowed, path
