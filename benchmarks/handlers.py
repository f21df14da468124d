"""Cold import of each Lambda handler as Lambda does it (target: <= 150 ms each), asset size.

Run: .venv/bin/python benchmarks/handlers.py [runs]
Each sample is a fresh `python -X importtime` process with the asset root on sys.path
importing `<name>.app`, as Lambda's runtime does with the handler string; the time is the
import of that module alone (what the init phase adds to the interpreter's own start), the
median over the runs. Beside it, the CPU time of the same import (time.process_time in the
child): on a loaded machine the wall time mostly measures the queue for a core (as in
benchmarks/startup.py), so the target is judged on CPU time. Also printed: `import boto3`
measured the same way (the peer every handler would pay if it imported AWS clients eagerly),
and the size of the asset zip.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import zipfile
from fnmatch import fnmatch
from pathlib import Path

from conveyor.handlers import ASSET_EXCLUDE, ASSET_ROOT, HANDLER_NAMES

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 11
TARGET_MS = 150.0


def _import_ms(module: str) -> float:
    """Cumulative import time of `module` in a fresh interpreter, from -X importtime."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ASSET_ROOT,
        env={**os.environ, "PYTHONPATH": str(ASSET_ROOT), "PYTHONDONTWRITEBYTECODE": ""},
    )
    for line in result.stderr.splitlines():
        fields = [f.strip() for f in line.removeprefix("import time:").split("|")]
        if len(fields) == 3 and fields[2] == module:
            return int(fields[1]) / 1000
    raise RuntimeError(f"no import time for {module}: {result.stderr[-500:]}")


def _import_cpu_ms(module: str) -> float:
    """CPU time of importing `module` in a fresh interpreter."""
    code = (
        "import time; started = time.process_time(); "
        f"import {module}; print((time.process_time() - started) * 1000)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=ASSET_ROOT,
        env={**os.environ, "PYTHONPATH": str(ASSET_ROOT), "PYTHONDONTWRITEBYTECODE": ""},
    )
    return float(result.stdout.strip())


def _median_ms(module: str) -> tuple[float, float]:
    """(wall, CPU) medians of the cold import."""
    _import_ms(module)  # warm the bytecode cache: Lambda's asset ships no .pyc either way
    walls = [_import_ms(module) for _ in range(RUNS)]
    cpus = [_import_cpu_ms(module) for _ in range(RUNS)]
    return statistics.median(walls), statistics.median(cpus)


def _excluded(relative: Path) -> bool:
    return any(fnmatch(part, pattern) for part in relative.parts for pattern in ASSET_EXCLUDE)


def asset_zip_bytes() -> tuple[int, int]:
    """(files, compressed bytes) of the asset as CDK packages it (same exclusions)."""
    buffer = io.BytesIO()
    files = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(ASSET_ROOT.rglob("*")):
            relative = path.relative_to(ASSET_ROOT)
            if path.is_file() and not _excluded(relative):
                archive.write(path, relative.as_posix())
                files += 1
    return files, len(buffer.getvalue())


def main() -> None:
    boto3_wall, boto3_cpu = _median_ms("boto3")
    print(
        f"cold import, median of {RUNS} fresh processes (target <= {TARGET_MS:.0f} ms CPU), "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    for name in HANDLER_NAMES:
        wall, cpu = _median_ms(f"{name}.app")
        verdict = "ok" if cpu <= TARGET_MS else "OVER"
        print(
            f"  {name + '.app':24} cpu {cpu:7.1f} ms  {cpu / boto3_cpu:4.2f}x boto3"
            f"  wall {wall:7.1f} ms  {verdict}"
        )
    print(f"  {'boto3 (peer)':24} cpu {boto3_cpu:7.1f} ms        wall {boto3_wall:7.1f} ms")
    files, size = asset_zip_bytes()
    print(f"asset: {files} files, {size / 1024:.1f} KiB zipped (Powertools comes from the layer)")


if __name__ == "__main__":
    main()
