"""Two installs of encounter compared on equal footing: CPU time of start-up and of 100k-row imports.

    python benchmarks/compare_installs.py OLD_BIN NEW_BIN [--runs 3] [--startup-runs 21]

OLD_BIN and NEW_BIN are the `bin` folders of two virtual environments, each
with a regular `pip install .` of one version (and sqlite-utils, the
reference for the patient import). Runs alternate between the two, so both
see the same machine state; files and databases live on tmpfs (/dev/shm
when present), so neither pays for fsync. Each figure is the child's CPU time
(user + system): the median over start-up runs, the minimum over import runs
(the least disturbed one), with wall time beside it.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from import_speed import write_appointments, write_doctors, write_patients

IMPORT_FLOOR = "import typer, rich, sqlalchemy.orm, pydantic, email_validator"


def run(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one command, which must succeed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, env=env, capture_output=True, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def startup(installs: dict[str, Path], work: Path, env: dict[str, str], runs: int) -> None:
    results: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for name, bin_dir in installs.items():  # a small database of 20 patients each
        for n in range(20):
            add = ["patient", "add", "--first-name", "A", "--last-name", f"B{n}", "--email", f"p{n}@example.org"]
            run([str(bin_dir / "encounter"), "--db", f"sqlite:///{work / name}.db", *add], env)
    commands = {
        "import floor": lambda name, bin_dir: [str(bin_dir / "python"), "-c", IMPORT_FLOOR],
        "encounter --help": lambda name, bin_dir: [str(bin_dir / "encounter"), "--help"],
        "patient list (20)": lambda name, bin_dir: [
            str(bin_dir / "encounter"), "--db", f"sqlite:///{work / name}.db", "patient", "list"
        ],
    }  # fmt: skip
    for _ in range(runs):
        for label, command in commands.items():
            for name, bin_dir in installs.items():
                results[(label, name)].append(run(command(name, bin_dir), env))
    for (label, name), figures in results.items():
        wall, cpu = (statistics.median(figure[i] for figure in figures) for i in (0, 1))
        print(f"{label:20s} {name:4s} cpu {cpu * 1000:6.0f} ms   wall {wall * 1000:6.0f} ms   (median of {runs})")


def imports(installs: dict[str, Path], work: Path, env: dict[str, str], runs: int) -> None:
    patients, doctors, appointments = work / "patients.csv", work / "doctors.csv", work / "appointments.csv"
    write_patients(patients, 100_000)
    write_doctors(doctors, 1_000)
    write_appointments(appointments, 1_000, 100, 100_000)
    results: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for attempt in range(runs):
        for name, bin_dir in installs.items():
            db = f"sqlite:///{work / f'{name}{attempt}.db'}"
            encounter = str(bin_dir / "encounter")
            patient_import = [encounter, "--db", db, "patient", "import", str(patients)]
            results[("100k patients", name)].append(run(patient_import, env))
            run([encounter, "--db", db, "doctor", "import", str(doctors)], env)
            appointment_import = [encounter, "--db", db, "appointment", "import", str(appointments)]
            results[("100k appointments", name)].append(run(appointment_import, env))
            reference = [str(bin_dir / "sqlite-utils"), "insert", str(work / f"su-{name}{attempt}.db"), "patients"]
            results[("sqlite-utils 100k", name)].append(run([*reference, str(patients), "--csv"], env))
    for (label, name), figures in sorted(results.items()):
        wall, cpu = (min(figure[i] for figure in figures) for i in (0, 1))
        print(f"{label:20s} {name:4s} cpu {cpu:6.2f} s   wall {wall:6.2f} s   (least of {runs})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_bin", type=Path)
    parser.add_argument("new_bin", type=Path)
    parser.add_argument("--runs", type=int, default=3, help="import runs per install")
    parser.add_argument("--startup-runs", type=int, default=21)
    args = parser.parse_args()
    installs = {"old": args.old_bin, "new": args.new_bin}
    scratch = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        work = Path(folder)
        env = {**os.environ, "XDG_DATA_HOME": str(work), "XDG_CONFIG_HOME": str(work), "ENCOUNTER_TIMEZONE": "UTC"}
        startup(installs, work, env, args.startup_runs)
        imports(installs, work, env, args.runs)


if __name__ == "__main__":
    main()
