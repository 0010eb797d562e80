"""Batch import speed and memory: generates the data, runs the commands, prints the figures.

    python benchmarks/import_speed.py                 # all figures (about two minutes)
    python benchmarks/import_speed.py --skip-million  # without the 1,000,000-row memory run

Targets (issue 4), each a whole command's wall time, start-up included:
  1. 100,000 patients from CSV into SQLite, fully validated, no slower than
     `sqlite-utils insert db patients file.csv --csv` (which validates nothing)
     on the same file in the same run: ratio <= 1.0.
  2. 100,000 appointments across 1,000 doctors into SQLite, all rules: >= 20,000 rows/s.
  3. 100,000 patients into the local MariaDB: >= 20,000 rows/s
     (ENCOUNTER_BENCH_MYSQL_URL, default mysql+pymysql://root@127.0.0.1:3306/encounter_bench,
     a database this script drops and recreates).
  4. 1,000,000 patients: peak memory (max RSS) of the import process < 200 MB.
  5. (no target) exporting them with `patient list -o ndjson`: time to the first row, peak memory.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

DEFAULT_MYSQL = "mysql+pymysql://root@127.0.0.1:3306/encounter_bench"


def write_patients(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["first_name", "last_name", "email", "phone", "date_of_birth"])
        for n in range(count):
            writer.writerow([f"Fïrst{n}", f"Last{n % 977}", f"patient{n}@clinic{n % 50}.example.org",
                             f"+1 555 {n % 10000:04d}", f"19{50 + n % 50}-0{1 + n % 9}-1{n % 10}"])  # fmt: skip


def write_doctors(path: Path, count: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["full_name", "specialization"])
        writer.writerows([f"Dr {n}", ("General", "Cardiology", "Dermatology")[n % 3]] for n in range(count))


def write_appointments(path: Path, doctors: int, per_doctor: int, patients: int) -> None:
    """A week of 30-minute slots per doctor (08:00-18:00 every day), in shuffled order (not sorted by doctor or
    time). Random patients, but never one patient twice at one time (rule 9), so every row is good."""
    assert patients >= doctors, "each slot needs a patient per doctor"
    rng = random.Random(4)
    first_day = datetime.now().replace(hour=8, minute=0, second=0, microsecond=0) + timedelta(days=30)
    rows = []
    for k in range(per_doctor):
        day, slot = divmod(k, 20)
        start = (first_day + timedelta(days=day, minutes=30 * slot)).strftime("%Y-%m-%dT%H:%M")
        at_once = rng.sample(range(1, patients + 1), doctors)  # the patients of this slot, one per doctor
        rows.extend([patient, doctor, start, 30, "check-up"] for doctor, patient in enumerate(at_once, start=1))
    rng.shuffle(rows)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["patient_id", "doctor_id", "start_time", "duration_minutes", "reason"])
        writer.writerows(rows)


def timed(command: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (kB) of one command, which must succeed."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{stderr}")
    return elapsed, usage.ru_maxrss


def stream_timing(command: list[str], env: dict[str, str]) -> tuple[float, float, int, int]:
    """Seconds to the first output line and to the end, line count, peak RSS (kB)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE)
    process.stdout.readline()
    first = time.perf_counter() - started
    lines = 1 + sum(1 for _ in process.stdout)
    _, _, usage = os.wait4(process.pid, 0)
    return first, time.perf_counter() - started, lines, usage.ru_maxrss


def fresh_mysql(url: str) -> None:
    import pymysql
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    conn = pymysql.connect(host=parsed.host, port=parsed.port or 3306, user=parsed.username,
                           password=parsed.password or "")  # fmt: skip
    with conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS `{parsed.database}`")
        cursor.execute(f"CREATE DATABASE `{parsed.database}` CHARACTER SET utf8mb4")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-million", action="store_true", help="skip the 1,000,000-patient memory run")
    args = parser.parse_args()
    bin_dir = Path(sys.executable).parent
    encounter = shutil.which("encounter") or str(bin_dir / "encounter")
    sqlite_utils = shutil.which("sqlite-utils") or str(bin_dir / "sqlite-utils")
    mysql_url = os.environ.get("ENCOUNTER_BENCH_MYSQL_URL", DEFAULT_MYSQL)
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        env = {**os.environ, "XDG_DATA_HOME": str(work), "XDG_CONFIG_HOME": str(work), "ENCOUNTER_TIMEZONE": "UTC"}
        patients, doctors, appointments = work / "patients.csv", work / "doctors.csv", work / "appointments.csv"
        write_patients(patients, 100_000)
        write_doctors(doctors, 1_000)
        write_appointments(appointments, doctors=1_000, per_doctor=100, patients=100_000)

        baseline, _ = timed([sqlite_utils, "insert", str(work / "su.db"), "patients", str(patients), "--csv"], env)
        db = f"sqlite:///{work / 'clinic.db'}"
        ours, _ = timed([encounter, "--db", db, "patient", "import", str(patients)], env)
        print(f"1. 100,000 patients -> SQLite: encounter {ours:.2f} s, sqlite-utils {baseline:.2f} s,"
              f" ratio {ours / baseline:.2f} (target <= 1.0)")  # fmt: skip

        timed([encounter, "--db", db, "doctor", "import", str(doctors)], env)
        seconds, _ = timed([encounter, "--db", db, "appointment", "import", str(appointments)], env)
        print(f"2. 100,000 appointments / 1,000 doctors -> SQLite: {seconds:.2f} s,"
              f" {100_000 / seconds:,.0f} rows/s (target >= 20,000)")  # fmt: skip

        fresh_mysql(mysql_url)
        timed([encounter, "--db", mysql_url, "db", "init"], env)
        seconds, _ = timed([encounter, "--db", mysql_url, "patient", "import", str(patients)], env)
        print(f"3. 100,000 patients -> MariaDB: {seconds:.2f} s, {100_000 / seconds:,.0f} rows/s (target >= 20,000)")

        if not args.skip_million:
            million = work / "million.csv"
            write_patients(million, 1_000_000)
            seconds, peak_kb = timed([encounter, "--db", f"sqlite:///{work / 'million.db'}", "patient", "import",
                                      str(million)], env)  # fmt: skip
            print(f"4. 1,000,000 patients -> SQLite: {seconds:.1f} s, peak RSS {peak_kb / 1024:.0f} MB"
                  " (target < 200 MB)")  # fmt: skip
            export = [encounter, "--db", f"sqlite:///{work / 'million.db'}", "patient", "list", "-o", "ndjson"]
            first_line, total, lines, peak_kb = stream_timing(export, env)
            print(f"5. export of 1,000,000 patients as NDJSON: first row after {first_line * 1000:.0f} ms,"
                  f" {lines:,} rows in {total:.1f} s, peak RSS {peak_kb / 1024:.0f} MB")  # fmt: skip


if __name__ == "__main__":
    main()
