"""Start-up cost: median wall time of `encounter --help`, of a database command, and of the import floor.

    python benchmarks/startup.py [--runs 15]

Targets (issue 2): --help <= 150 ms, or (issue 11, which added shell completion) the same ratio
to `python -c "import typer"` as before; `patient list` on a small SQLite
database <= 1.2 x the time to import typer, rich, sqlalchemy.orm, pydantic
and email_validator (the floor any command that touches the database pays).

Measure a regular install (`pip install .`), as users get it: an editable
install (`pip install -e .`) routes every import of the package through
setuptools' finder, which adds about 20 ms to each command.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

IMPORT_FLOOR = "import typer, rich, sqlalchemy.orm, pydantic, email_validator"


def median_seconds(command: list[str], env: dict[str, str], runs: int) -> float:
    subprocess.run(command, env=env, capture_output=True, check=True)  # warm the OS cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    encounter = shutil.which("encounter") or str(Path(sys.executable).with_name("encounter"))
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "XDG_DATA_HOME": home, "XDG_CONFIG_HOME": home, "ENCOUNTER_TIMEZONE": "UTC"}
        env.pop("ENCOUNTER_DATABASE_URL", None)
        for n in range(20):
            add = ["patient", "add", "--first-name", f"P{n}", "--last-name", "B", "--email", f"p{n}@example.org"]
            subprocess.run([encounter, *add], env=env, capture_output=True, check=True)
        floor = median_seconds([sys.executable, "-c", IMPORT_FLOOR], env, runs)
        typer_time = median_seconds([sys.executable, "-c", "import typer"], env, runs)
        help_time = median_seconds([encounter, "--help"], env, runs)
        list_time = median_seconds([encounter, "patient", "list"], env, runs)
    print(f"runs per figure: {runs}")
    print(f"import floor ({IMPORT_FLOOR}): {floor * 1000:.0f} ms")
    print(f"python -c 'import typer':        {typer_time * 1000:.0f} ms")
    help_ratio = help_time / typer_time
    print(f"encounter --help: {help_time * 1000:.0f} ms = {help_ratio:.2f} x import typer (target <= 150 ms)")
    ratio = list_time / floor
    print(f"encounter patient list (20 rows): {list_time * 1000:.0f} ms = {ratio:.2f} x floor (target <= 1.20)")


if __name__ == "__main__":
    main()
