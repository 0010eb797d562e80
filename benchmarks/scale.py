"""Scale: do everyday commands stay as fast on a big clinic as on an empty one? (issue 8)

    python benchmarks/scale.py                     # everything, SQLite and MariaDB, median of 5 runs
    python benchmarks/scale.py --runs 7 --skip-mysql
    python benchmarks/scale.py --only commands --only export   # groups: commands, export, import, rss
    python benchmarks/scale.py --rebuild           # build the data and both big databases again first

Run it with the Python of the virtual environment that has encounter and sqlite-utils installed
(`.venv/bin/python benchmarks/scale.py`): commands are that environment's `bin/encounter` and
`bin/sqlite-utils`. An editable install adds about 20 ms to every command, on both sides alike.

The big clinic: 200,000 patients (1 % named Smith, 0.5 % Smithson, Goldsmith and the like, so that
`--search smith` finds something), 2,000 doctors (General, Cardiology, Dermatology; one in 500, 4 in all,
Neurology), 1,000,000 booked appointments on weekdays over the ten years from January 1 of next year
(08:00-20:00 UTC, 15-180 minutes, no doctor or patient booked twice at once), generated with a fixed seed
and loaded through encounter's own `import` commands; then every doctor gets working hours, mon-fri
08:00-12:00 and 13:00-17:00 and sat 09:00-13:00 (22,000 doctorHours rows inserted in bulk). The empty
clinic: the same schema with one patient (Ada Smith) and one doctor (Neurology, the same hours). The
clinic zone is UTC.

Groups. Every figure is the median of --runs runs, interleaved: each round runs every command of the group
once per side, in a rotating order (the commands group after one untimed warm-up of each; the others work on
tmpfs, where nothing needs warming). Wall time from perf_counter; CPU the child's user + system time from
os.wait4, so on MariaDB the server's own work shows in wall time only.
  commands  big/empty <= 1.15 for `appointment list --date D` (D the busiest day), `appointment list`,
            `appointment list --date D --doctor X` (X the doctor with most bookings on D), `appointment book`
            (the doctor with most bookings, a Saturday noon inside the data's range, free by construction),
            `patient show`, `doctor deactivate` (that doctor again, re-activated untimed after each run);
            `patient list --search smith` <= 1.3; <= 1.2 for `appointment slots --specialization S --duration
            30 --date R` and `schedule --date R --specialization S` (S = Neurology, R its doctors' busiest day).
            `schedule --date R` alone would print all 2,000 doctors (200 grids) against the empty clinic's one:
            a measure of Rich, not of the database; with S both sides print one grid.
  export    `appointment list --from BASE -o csv` and `-o ndjson` (all 1,000,000 rows, read fully from a pipe):
            <= 1.0 x `sqlite-utils rows DB appointments --csv` (and `sqlite3 -csv` for information), first
            row < 300 ms. MariaDB: figures only, beside `mariadb --batch --quick -e 'select * from
            appointments'` (--quick: without it the client holds the whole result before its first line).
  import    100,000 patients (import_speed.write_patients) into a fresh SQLite file vs `sqlite-utils insert
            DB patients FILE --csv` into another, files on tmpfs: <= 1.0 in wall and CPU time.
  rss       1,000,000 appointments imported into a database holding only the patients and doctors:
            peak RSS of the encounter process < 150 MB, with its wall time (one run per database). Peak RSS
            (here and for the exports and build steps) is what GNU time (/usr/bin/time) reports for the
            command itself; ru_maxrss of a direct child would include this script's own peak (see run()).
SQLite commands run on copies of the cached files on tmpfs (/dev/shm), so nothing a run writes reaches the
cache. On MariaDB the few bookings a run makes are deleted with plain SQL afterwards, and the deactivated
doctor is active again, so `encounter_scale` stays as built (a run cut short is tidied the same way first).

Cache: $XDG_CACHE_HOME/encounter-bench (default ~/.cache/encounter-bench; --cache-dir), a folder
`scale-KEY` holding the CSV files, plan.json (the chosen day, doctors and patient) and the SQLite files
base.db (patients and doctors) and big.db. KEY hashes every input of the data: counts, seed, base date,
the generator's version, Python's minor version (for `random`) and the schema `encounter db init` creates,
so a change to any of them builds anew.
MariaDB keeps the database `encounter_scale` with a table `benchScaleMarker` recording KEY; a missing or
different marker rebuilds it. `encounter_scale_empty` is dropped and recreated on every run. To force a
rebuild: --rebuild (or delete the folder / drop the database). Folders of other keys stay until deleted by
hand (about 420 MB each). MariaDB server: --mysql-server, default
ENCOUNTER_BENCH_MYSQL_SERVER or mysql+pymysql://root@127.0.0.1:3306.

The MariaDB databases are shared: two copies of this script with different keys (two checkouts of
different versions, say) rebuild `encounter_scale` in turn, and two runs at once use `encounter_scale_empty`
together; run one at a time.

Time on a 2-core machine: the first build about 3 minutes (SQLite 80 s, MariaDB 95 s); then, with
--runs 5, about 19 minutes of measuring (SQLite about 8, two thirds of it the exports; MariaDB about 11).
Targets are reported, never asserted: the exit code is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import random
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from import_speed import fresh_mysql, write_patients

GENERATOR_VERSION = 2  # bump when the data below changes shape (2: working hours, a rare specialization)
SEED = 8
PATIENTS, DOCTORS, APPOINTMENTS = 200_000, 2_000, 1_000_000
YEARS = 10
GROUPS = ("commands", "export", "import", "rss")
GNU_TIME = "/usr/bin/time"  # reports a command's own peak RSS
BIG_DB, EMPTY_DB, MARKER = "encounter_scale", "encounter_scale_empty", "benchScaleMarker"

FIRST_NAMES = ("Ada", "Alan", "Grace", "Linus", "Marie", "Niels", "Rosalind", "Emmy", "Élodie", "Zoë", "José",
               "Björn", "Aiko", "Kwame", "Priya", "Chen", "Fatima", "Olga", "Mateo", "Noor", "Liam")  # fmt: skip
LAST_NAMES = ("Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Thompson",
              "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Müller", "García",
              "Rossi", "Novak", "Kowalski", "Nguyen", "Kim", "Okafor", "Haddad", "Silva", "Ivanova")  # fmt: skip
SMITH_LIKE = ("Smithson", "Goldsmith", "Smithers", "Blacksmith", "Arrowsmith")
DURATIONS = (15, 20, 30, 30, 30, 45, 45, 60, 60, 90, 120, 180)
GAPS = (0, 0, 0, 15, 30)
REASONS = ("check-up", "follow-up", "vaccination", "blood test", "consultation", "test results")
DAY_END = 20 * 60  # minutes: no booking runs past 20:00
SPECIALIZATIONS = ("General", "Cardiology", "Dermatology")
# A specialization of one doctor in RARE_EVERY, for the slots and schedule cases: a day sheet of four doctors
# is what a front desk reads, and it keeps those cases about the size of the database, not of their output.
RARE, RARE_EVERY = "Neurology", 500
# Every doctor's working hours (rows of doctorHours: ISO weekday, start, end); Saturday mornings too, so
# that the booking case's Saturday noon lies inside them.
HOURS = [(weekday, start, end) for weekday in range(1, 6) for start, end in (("08:00", "12:00"), ("13:00", "17:00"))]
HOURS.append((6, "09:00", "13:00"))


@dataclass(frozen=True)
class Clinic:
    patients: int
    doctors: int
    appointments: int
    seed: int
    base_date: str  # YYYY-MM-DD, the first day of the data (clinic time = UTC)
    generator: int = GENERATOR_VERSION


@dataclass(frozen=True)
class Plan:
    """What the commands are run on, chosen from the generated data."""

    busy_day: str
    busy_day_bookings: int
    day_doctor: int  # most bookings on busy_day
    day_doctor_bookings: int
    top_doctor: int  # most bookings overall
    top_doctor_bookings: int
    patient: int
    last_appointment: int  # highest appointment id as built
    rare_day: str  # most bookings of the RARE doctors: the day of the slots and schedule cases
    rare_day_bookings: int


@dataclass(frozen=True)
class Sample:
    wall: float
    cpu: float
    rss_mb: float | None  # measured under GNU time only (see run)
    first_row: float | None = None
    rows: int | None = None


@dataclass(frozen=True)
class Row:
    measure: str
    base_label: str
    base: Sample | None
    label: str
    value: Sample
    target: str
    met: bool | None


@dataclass
class Bench:
    bin_dir: Path
    env: dict[str, str]
    scratch: Path  # on tmpfs
    runs: int

    def tool(self, name: str) -> str:
        return str(self.bin_dir / name) if (self.bin_dir / name).exists() else shutil.which(name) or name

    def encounter(self, db: str, *args: str) -> list[str]:
        return [self.tool("encounter"), "--db", db, *args]

    def run(self, command: list[str], header_lines: int | None = None, peak: bool = False) -> Sample:
        return run(command, self.env, header_lines, cwd=self.scratch, peak=peak)


# ---- running and timing --------------------------------------------------------------------------------


def run(command: list[str], env: dict[str, str], header_lines: int | None = None, cwd: Path | None = None,
        peak: bool = False) -> Sample:  # fmt: skip
    """One command, which must succeed: wall and CPU seconds; with header_lines, its stdout is read to the end
    and the time to the first line after the header is recorded. With peak, the command runs under GNU time,
    whose report is its own peak RSS: the ru_maxrss os.wait4 gives for a direct child also counts this
    script's peak (the child is this process, vforked, until it execs), a floor of 50-70 MB here. The CPU
    time os.wait4 gives for GNU time includes the command's, which it waited for."""
    with tempfile.TemporaryFile() as errors, tempfile.NamedTemporaryFile() as peak_file:
        measured = peak and Path(GNU_TIME).exists()
        command = [GNU_TIME, "-f", "%M", "-o", peak_file.name, *command] if measured else command
        started = time.perf_counter()
        stdout = subprocess.DEVNULL if header_lines is None else subprocess.PIPE
        process = subprocess.Popen(command, env=env, stdout=stdout, stderr=errors, cwd=cwd)
        first_row, rows = drain(process.stdout, header_lines, started) if process.stdout else (None, None)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            errors.seek(0)
            raise SystemExit(f"failed ({process.returncode}): {' '.join(command)}\n{errors.read().decode()[-2000:]}")
        rss_mb = int(Path(peak_file.name).read_text().split()[-1]) / 1024 if measured else None
    return Sample(wall, usage.ru_utime + usage.ru_stime, rss_mb, first_row, rows)


def drain(stdout: IO[bytes], header_lines: int | None, started: float) -> tuple[float | None, int]:
    for _ in range(header_lines or 0):
        stdout.readline()
    if not stdout.readline():
        return None, 0
    first_row, rows = time.perf_counter() - started, 1
    while chunk := stdout.read(1 << 16):
        rows += chunk.count(b"\n")
    stdout.close()
    return first_row, rows


def interleave(jobs: dict[str, Callable[[int], Sample]], runs: int, warm_up: bool = False) -> dict[str, list[Sample]]:
    """`runs` rounds of every job, in a rotating order; with warm_up, each job runs once untimed first (round 0)."""
    names = list(jobs)
    for name in names if warm_up else []:
        jobs[name](0)
    results: dict[str, list[Sample]] = defaultdict(list)
    for round_ in range(1, runs + 1):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            results[name].append(jobs[name](round_))
            print(".", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return results


def median(samples: list[Sample]) -> Sample:
    def mid(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return statistics.median(present) if present else None

    first_row, peaks = mid([s.first_row for s in samples]), [s.rss_mb for s in samples if s.rss_mb is not None]
    return Sample(statistics.median(s.wall for s in samples), statistics.median(s.cpu for s in samples),
                  max(peaks) if peaks else None, first_row, samples[0].rows)  # fmt: skip


# ---- the data -----------------------------------------------------------------------------------------


def clinic_last_name(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.01:
        return "Smith"
    return rng.choice(SMITH_LIKE) if roll < 0.015 else rng.choice(LAST_NAMES)


def write_clinic_patients(path: Path, clinic: Clinic) -> None:
    rng = random.Random(clinic.seed)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "first_name", "last_name", "email", "phone", "date_of_birth"])
        for n in range(1, clinic.patients + 1):
            last = clinic_last_name(rng)
            born = date(1930, 1, 1) + timedelta(days=rng.randrange(90 * 365))
            email = f"p{n}.{last.lower()}@clinic{n % 50}.example.org"
            writer.writerow([n, rng.choice(FIRST_NAMES), last, email, f"+1 555 {n % 10000:04d}", born.isoformat()])


def write_clinic_doctors(path: Path, clinic: Clinic) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["full_name", "specialization"])
        writer.writerows([f"Dr {n}", specialization_of(n)] for n in range(clinic.doctors))


def specialization_of(n: int) -> str:
    """The specialization of the doctor in row n (id n + 1)."""
    return RARE if n % RARE_EVERY == 0 else SPECIALIZATIONS[n % len(SPECIALIZATIONS)]


def rare_doctors(clinic: Clinic) -> set[int]:
    return {n + 1 for n in range(clinic.doctors) if specialization_of(n) == RARE}


def doctor_sessions(rng: random.Random, count: int) -> list[list[tuple[int, int]]]:
    """A doctor's bookings as working days of back-to-back (start minute, duration) pairs."""
    sessions = []
    while count > 0:
        start, session = 8 * 60 + rng.choice((0, 30, 60, 120)), []
        for _ in range(min(count, rng.randint(3, 9))):
            duration = rng.choice(DURATIONS)
            if start + duration > DAY_END:
                break
            session.append((start, duration))
            start += duration + rng.choice(GAPS)
        count -= len(session)
        sessions.append(session)
    return sessions


def doctor_counts(rng: random.Random, clinic: Clinic) -> list[int]:
    """Bookings per doctor, uneven (some doctors are much busier), summing to clinic.appointments."""
    weights = [rng.lognormvariate(0, 0.5) for _ in range(clinic.doctors)]
    total = sum(weights)
    counts = [int(clinic.appointments * w / total) for w in weights]
    for n in range(clinic.appointments - sum(counts)):
        counts[n] += 1
    return counts


def weekday_offsets(base: date) -> list[int]:
    end = base.replace(year=base.year + YEARS)
    return [n for n in range((end - base).days) if (base + timedelta(days=n)).weekday() < 5]


def booking_keys(clinic: Clinic) -> list[int]:
    """Every booking packed in one int (minute since base << 20 | doctor << 8 | duration), sorted by start."""
    assert clinic.doctors < 4096
    rng = random.Random(clinic.seed + 1)
    days = weekday_offsets(date.fromisoformat(clinic.base_date))
    keys: list[int] = []
    for doctor, count in enumerate(doctor_counts(rng, clinic), start=1):
        sessions = doctor_sessions(rng, count)
        for day, session in zip(rng.sample(days, len(sessions)), sessions, strict=True):
            keys.extend(((day * 1440 + start) << 20) | (doctor << 8) | duration for start, duration in session)
    keys.sort()
    return keys


def write_clinic_appointments(path: Path, clinic: Clinic) -> Plan:
    """The appointments in start order. Patients take turns (a shuffled order, repeated), so a patient's
    bookings are clinic.patients bookings apart, far more than a day's: no patient is booked twice at once."""
    keys = booking_keys(clinic)
    turns = list(range(1, clinic.patients + 1))
    random.Random(clinic.seed + 2).shuffle(turns)
    base = datetime.fromisoformat(clinic.base_date)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "patient_id", "doctor_id", "start_time", "duration_minutes", "reason"])
        for n, key in enumerate(keys):
            start = (base + timedelta(minutes=key >> 20)).strftime("%Y-%m-%dT%H:%M")
            doctor, duration = (key >> 8) & 0xFFF, key & 0xFF
            writer.writerow([n + 1, turns[n % len(turns)], doctor, start, duration, REASONS[n % len(REASONS)]])
    return plan_for(keys, clinic)


def plan_for(keys: list[int], clinic: Clinic) -> Plan:
    [(day, day_count)] = Counter((key >> 20) // 1440 for key in keys).most_common(1)
    on_day = Counter((key >> 8) & 0xFFF for key in keys if (key >> 20) // 1440 == day)
    [(day_doctor, day_doctor_count)] = on_day.most_common(1)
    [(top, top_count)] = Counter((key >> 8) & 0xFFF for key in keys).most_common(1)
    rare = rare_doctors(clinic)
    [(rare_day, rare_count)] = Counter((key >> 20) // 1440 for key in keys if (key >> 8) & 0xFFF in rare).most_common(1)
    base = date.fromisoformat(clinic.base_date)
    return Plan((base + timedelta(days=day)).isoformat(), day_count, day_doctor, day_doctor_count, top, top_count,
                clinic.patients // 2, len(keys), (base + timedelta(days=rare_day)).isoformat(), rare_count)  # fmt: skip


# ---- the cache and the builds ---------------------------------------------------------------------------


def schema_fingerprint(bench: Bench) -> str:
    """A hash of the tables and indexes `encounter db init` creates: a new schema means a new cache key."""
    path = bench.scratch / "schema.db"
    bench.run(bench.encounter(f"sqlite:///{path}", "db", "init"))
    with sqlite3.connect(path) as conn:
        ddl = conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    conn.close()
    remove_sqlite(path)
    return hashlib.sha256(json.dumps(ddl).encode()).hexdigest()[:16]


def cache_key(clinic: Clinic, schema: str) -> str:
    """Python's minor version too: `random` keeps only seeding and random() stable across versions."""
    inputs = [asdict(clinic), schema, list(sys.version_info[:2])]
    return hashlib.sha256(json.dumps(inputs).encode()).hexdigest()[:12]


def remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def checkpoint(path: Path) -> None:
    """Fold the WAL into the main file, so that the file alone can be copied."""
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def sqlite_counts(path: Path) -> dict[str, tuple[int, int]]:
    with sqlite3.connect(path) as conn:
        counts = {t: conn.execute(f"SELECT COUNT(*), MAX(id) FROM {t}").fetchone() for t in TABLES}
    conn.close()
    return counts


TABLES = ("patients", "doctors", "appointments")


def expected_counts(clinic: Clinic) -> dict[str, tuple[int, int]]:
    return {"patients": (clinic.patients, clinic.patients), "doctors": (clinic.doctors, clinic.doctors),
            "appointments": (clinic.appointments, clinic.appointments)}  # fmt: skip


def insert_hours(db: str, doctor_ids: Iterable[int]) -> None:
    """Every doctor's HOURS, in bulk, after the appointments are imported: many of those (08:00-20:00) lie
    outside the hours, and a booking or an import checks them. Stored as encounter stores times."""
    rows = [(doctor, weekday, start, end) for doctor in doctor_ids for weekday, start, end in HOURS]
    insert = "INSERT INTO doctorHours (doctorId, weekday, startsAt, endsAt) VALUES ({0}, {0}, {0}, {0})"
    started = time.perf_counter()
    if db.startswith("sqlite:///"):
        with sqlite3.connect(db.removeprefix("sqlite:///")) as conn:  # SQLAlchemy's SQLite TIME text
            conn.executemany(insert.format("?"), [(d, w, f"{s}:00.000000", f"{e}:00.000000") for d, w, s, e in rows])
        conn.close()
    else:
        server, database = db.rsplit("/", 1)
        with mysql_cursor(server, database) as cursor:
            cursor.executemany(insert.format("%s"), rows)
    print(f"  working hours: {len(rows):,} rows, {time.perf_counter() - started:.1f} s", file=sys.stderr)


def build_step(bench: Bench, label: str, command: list[str]) -> None:
    sample = bench.run(command, peak=True)
    print(f"  {label}: {sample.wall:.1f} s, peak RSS {seconds(sample.rss_mb, digits=0)} MB", file=sys.stderr)


def import_clinic(bench: Bench, db: str, folder: Path, before_appointments: Callable[[], None]) -> None:
    build_step(bench, "db init", bench.encounter(db, "db", "init"))
    for table in ("patient", "doctor"):
        build_step(bench, f"{table} import", bench.encounter(db, table, "import", str(folder / f"{table}s.csv")))
    before_appointments()
    appointments = str(folder / "appointments.csv")
    build_step(bench, "appointment import", bench.encounter(db, "appointment", "import", appointments))


def build_sqlite(bench: Bench, folder: Path, clinic: Clinic) -> None:
    big, base = folder / "big.db", folder / "base.db"

    def keep_base() -> None:
        checkpoint(big)
        shutil.copyfile(big, base)

    import_clinic(bench, f"sqlite:///{big}", folder, keep_base)
    insert_hours(f"sqlite:///{big}", range(1, clinic.doctors + 1))
    checkpoint(big)
    if sqlite_counts(big) != expected_counts(clinic):
        raise SystemExit(f"the built database holds {sqlite_counts(big)}, not {expected_counts(clinic)}")


def write_data(folder: Path, clinic: Clinic) -> Plan:
    write_clinic_patients(folder / "patients.csv", clinic)
    write_clinic_doctors(folder / "doctors.csv", clinic)
    return write_clinic_appointments(folder / "appointments.csv", clinic)


def ensure_sqlite(bench: Bench, cache: Path, key: str, clinic: Clinic, rebuild: bool) -> tuple[Path, float | None]:
    """The cached folder of this key, built (data, base.db, big.db) when missing; and the build's seconds."""
    folder = cache / f"scale-{key}"
    if rebuild:
        shutil.rmtree(folder, ignore_errors=True)
    if (folder / "plan.json").exists():
        return folder, None
    print(f"building {folder} ...", file=sys.stderr)
    started = time.perf_counter()
    partial = cache / f"scale-{key}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    plan = write_data(partial, clinic)
    print(f"  CSV files: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    build_sqlite(bench, partial, clinic)
    (partial / "clinic.json").write_text(json.dumps(asdict(clinic), indent=2) + "\n")
    (partial / "plan.json").write_text(json.dumps(asdict(plan), indent=2) + "\n")  # written last: complete
    partial.rename(folder)
    return folder, time.perf_counter() - started


@contextmanager
def mysql_cursor(server: str, database: str | None = None) -> Iterator[Any]:
    import pymysql
    from sqlalchemy.engine import make_url

    url = make_url(server)
    conn = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username, password=url.password or "",
                           database=database, autocommit=True)  # fmt: skip
    try:
        with conn.cursor() as cursor:
            yield cursor
    finally:
        conn.close()


def mysql_marker(server: str) -> str | None:
    with mysql_cursor(server) as cursor:
        query = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = %s"
        cursor.execute(query, (BIG_DB, MARKER))
        if cursor.fetchone()[0] == 0:
            return None
        cursor.execute(f"SELECT cacheKey FROM `{BIG_DB}`.`{MARKER}`")
        row = cursor.fetchone()
    return row[0] if row else None


def mysql_counts(server: str, database: str) -> dict[str, tuple[int, int]]:
    counts = {}
    with mysql_cursor(server, database) as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT COUNT(*), MAX(id) FROM {table}")
            counts[table] = tuple(cursor.fetchone())
    return counts


def ensure_mysql(bench: Bench, server: str, folder: Path, key: str, clinic: Clinic, rebuild: bool) -> float | None:
    """`encounter_scale` built from the cached CSV files unless its marker names this key; the build's seconds."""
    if not rebuild and mysql_marker(server) == key:
        return None
    print(f"building MariaDB {BIG_DB} ...", file=sys.stderr)
    started = time.perf_counter()
    fresh_mysql(f"{server}/{BIG_DB}")
    import_clinic(bench, f"{server}/{BIG_DB}", folder, lambda: None)
    insert_hours(f"{server}/{BIG_DB}", range(1, clinic.doctors + 1))
    if mysql_counts(server, BIG_DB) != expected_counts(clinic):
        raise SystemExit(f"{BIG_DB} holds {mysql_counts(server, BIG_DB)}, not {expected_counts(clinic)}")
    with mysql_cursor(server, BIG_DB) as cursor:
        cursor.execute(f"CREATE TABLE `{MARKER}` (cacheKey VARCHAR(64) NOT NULL)")
        cursor.execute(f"INSERT INTO `{MARKER}` VALUES (%s)", (key,))
    return time.perf_counter() - started


def tidy_mysql(server: str, plan: Plan) -> None:
    """Undo what the commands wrote: the bookings after the last built one, the deactivated doctor."""
    with mysql_cursor(server, BIG_DB) as cursor:
        cursor.execute("DELETE FROM appointments WHERE id > %s", (plan.last_appointment,))
        cursor.execute("UPDATE doctors SET isActive = 1 WHERE id = %s", (plan.top_doctor,))


def make_empty(bench: Bench, db: str, rare: int) -> None:
    """The same schema with one patient and `rare` doctors of the RARE specialization, with HOURS, as the big
    clinic has: the slots and schedule cases then show the same doctors on both sides, and differ by history."""
    bench.run(bench.encounter(db, "db", "init"))
    patient = ["--first-name", "Ada", "--last-name", "Smith", "--email", "ada.smith@example.org"]
    bench.run(bench.encounter(db, "patient", "add", *patient))
    for n in range(1, rare + 1):
        bench.run(bench.encounter(db, "doctor", "add", "--full-name", f"Dr Empty {n}", "--specialization", RARE))
    insert_hours(db, list(range(1, rare + 1)))


# ---- the measures ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One database the commands run on, with the ids they name there."""

    name: str
    db: str
    day_doctor: int
    top_doctor: int
    patient: int


@dataclass(frozen=True)
class Case:
    measure: str
    limit: float
    args: Callable[[Side, int], list[str]]
    after: Callable[[Side], list[str]] | None = None  # an untimed command run after each timed one


def free_slot(clinic: Clinic, round_: int) -> str:
    """A Saturday noon five years into the data, a week later each round: the data has weekdays only."""
    base = date.fromisoformat(clinic.base_date)
    day = base.replace(year=base.year + YEARS // 2)
    day += timedelta(days=(5 - day.weekday()) % 7 + 7 * round_)
    return f"{day.isoformat()}T12:00"


def command_cases(clinic: Clinic, plan: Plan) -> list[Case]:
    day, rare = plan.busy_day, plan.rare_day

    def book(side: Side, round_: int) -> list[str]:
        slot = ["--start", free_slot(clinic, round_), "--duration", "30", "--reason", "scale benchmark"]
        return ["appointment", "book", "--patient", str(side.patient), "--doctor", str(side.top_doctor), *slot]

    return [
        Case(f"appointment list --date {day}", 1.15, lambda side, _: ["appointment", "list", "--date", day]),
        Case("appointment list", 1.15, lambda side, _: ["appointment", "list"]),
        Case(f"appointment list --date {day} --doctor X", 1.15,
             lambda side, _: ["appointment", "list", "--date", day, "--doctor", str(side.day_doctor)]),
        Case("appointment book", 1.15, book),
        Case("patient show ID", 1.15, lambda side, _: ["patient", "show", str(side.patient)]),
        Case("patient list --search smith", 1.3, lambda side, _: ["patient", "list", "--search", "smith"]),
        Case("doctor deactivate ID", 1.15, lambda side, _: ["doctor", "deactivate", str(side.top_doctor)],
             after=lambda side: ["doctor", "activate", str(side.top_doctor)]),
        Case(f"appointment slots --specialization S --date {rare}", 1.2,
             lambda side, _: ["appointment", "slots", "--specialization", RARE, "--duration", "30", "--date", rare]),
        Case(f"schedule --date {rare} --specialization S", 1.2,
             lambda side, _: ["schedule", "--date", rare, "--specialization", RARE]),
    ]  # fmt: skip


def command_job(bench: Bench, case: Case, side: Side) -> Callable[[int], Sample]:
    def job(round_: int) -> Sample:
        sample = bench.run(bench.encounter(side.db, *case.args(side, round_)))
        if case.after:
            bench.run(bench.encounter(side.db, *case.after(side)))
        return sample

    return job


def measure_commands(bench: Bench, cases: list[Case], empty: Side, big: Side) -> list[Row]:
    jobs = {(case.measure, side.name): command_job(bench, case, side) for case in cases for side in (empty, big)}
    results = interleave({f"{m} [{s}]": job for (m, s), job in jobs.items()}, bench.runs, warm_up=True)
    rows = []
    for case in cases:
        base, value = (median(results[f"{case.measure} [{side.name}]"]) for side in (empty, big))
        met = value.wall / base.wall <= case.limit
        rows.append(Row(case.measure, "empty", base, "big", value, f"big/empty <= {case.limit}", met))
    return rows


def export_jobs(bench: Bench, db: str, clinic: Clinic) -> dict[str, Callable[[int], Sample]]:
    listing = bench.encounter(db, "appointment", "list", "--from", clinic.base_date, "-o")
    return {
        "encounter -o csv": lambda _: bench.run([*listing, "csv"], header_lines=1, peak=True),
        "encounter -o ndjson": lambda _: bench.run([*listing, "ndjson"], header_lines=0, peak=True),
    }


def checked_exports(bench: Bench, jobs: dict[str, Callable[[int], Sample]], clinic: Clinic) -> dict[str, Sample]:
    results = {name: median(samples) for name, samples in interleave(jobs, bench.runs).items()}
    for name, sample in results.items():
        if sample.rows != clinic.appointments:  # a check on the instrument, not on a timing
            raise SystemExit(f"{name} printed {sample.rows} rows, not {clinic.appointments}")
    return results


def export_row(measure: str, base_label: str, base: Sample | None, value: Sample, against: str) -> Row:
    first_ok = value.first_row is not None and value.first_row < 0.3
    if against == "sqlite-utils" and base:
        met = first_ok and value.wall <= base.wall
        return Row(measure, base_label, base, "encounter", value, "<= 1.0 x sqlite-utils; first row < 300 ms", met)
    return Row(measure, base_label, base, "encounter", value, "first row < 300 ms (figures only)", first_ok)


def measure_sqlite_export(bench: Bench, path: Path, clinic: Clinic) -> list[Row]:
    jobs = export_jobs(bench, f"sqlite:///{path}", clinic)
    utils = [bench.tool("sqlite-utils"), "rows", str(path), "appointments", "--csv"]
    jobs["sqlite-utils"] = lambda _: bench.run(utils, header_lines=1, peak=True)
    sqlite3_cli = shutil.which("sqlite3")
    if sqlite3_cli:
        command = [sqlite3_cli, "-csv", "-header", str(path), "SELECT * FROM appointments"]
        jobs["sqlite3"] = lambda _: bench.run(command, header_lines=1, peak=True)
    results = checked_exports(bench, jobs, clinic)
    reference = results["sqlite-utils"]
    rows = [export_row(f"export -o {fmt} (1M rows)", "sqlite-utils", reference, results[f"encounter -o {fmt}"],
                       "sqlite-utils") for fmt in ("csv", "ndjson")]  # fmt: skip
    if "sqlite3" in results:
        rows.append(Row("sqlite3 -csv (for information)", "sqlite-utils", reference, "sqlite3", results["sqlite3"],
                        "-", None))  # fmt: skip
    return rows


def mariadb_client(server: str, database: str) -> list[str] | None:
    from sqlalchemy.engine import make_url

    client = shutil.which("mariadb") or shutil.which("mysql")
    if not client:
        return None
    url = make_url(server)
    login = ["-h", url.host or "127.0.0.1", "-P", str(url.port or 3306), "-u", url.username or "root"]
    return [client, "--batch", "--quick", *login, "-e", "SELECT * FROM appointments", database]


def measure_mysql_export(bench: Bench, server: str, clinic: Clinic) -> list[Row]:
    jobs = export_jobs(bench, f"{server}/{BIG_DB}", clinic)
    client = mariadb_client(server, BIG_DB)
    if client:
        jobs["mariadb client"] = lambda _: bench.run(client, header_lines=1, peak=True)
    results = checked_exports(bench, jobs, clinic)
    reference = results.get("mariadb client")
    return [export_row(f"export -o {fmt} (1M rows)", "mariadb cli" if reference else "-", reference,
                       results[f"encounter -o {fmt}"], "mariadb") for fmt in ("csv", "ndjson")]  # fmt: skip


def fresh_import_job(bench: Bench, command: Callable[[Path], list[str]], name: str) -> Callable[[int], Sample]:
    def job(round_: int) -> Sample:
        path = bench.scratch / f"import-{name}-{round_}.db"
        sample = bench.run(command(path))
        remove_sqlite(path)
        return sample

    return job


def measure_import(bench: Bench) -> list[Row]:
    patients = bench.scratch / "patients-100k.csv"
    write_patients(patients, 100_000)
    jobs = {
        "encounter": fresh_import_job(
            bench, lambda path: bench.encounter(f"sqlite:///{path}", "patient", "import", str(patients)), "encounter"
        ),
        "sqlite-utils": fresh_import_job(
            bench, lambda path: [bench.tool("sqlite-utils"), "insert", str(path), "patients", str(patients), "--csv"],
            "sqlite-utils",
        ),
    }  # fmt: skip
    results = {name: median(samples) for name, samples in interleave(jobs, bench.runs).items()}
    patients.unlink()
    base, value = results["sqlite-utils"], results["encounter"]
    met = value.wall <= base.wall and value.cpu <= base.cpu
    target = "<= 1.0 x sqlite-utils, wall and CPU"
    return [Row("patient import 100k rows (tmpfs)", "sqlite-utils", base, "encounter", value, target, met)]


def rss_row(sample: Sample) -> Row:
    return Row("appointment import 1M rows (1 run)", "-", None, "encounter", sample, "peak RSS < 150 MB",
               None if sample.rss_mb is None else sample.rss_mb < 150)  # fmt: skip


def measure_sqlite_rss(bench: Bench, folder: Path) -> list[Row]:
    path = bench.scratch / "rss.db"
    shutil.copyfile(folder / "base.db", path)
    print("1M appointment import into SQLite ...", file=sys.stderr)
    appointments = str(folder / "appointments.csv")
    sample = bench.run(bench.encounter(f"sqlite:///{path}", "appointment", "import", appointments), peak=True)
    remove_sqlite(path)
    return [rss_row(sample)]


def measure_mysql_rss(bench: Bench, server: str, folder: Path) -> list[Row]:
    """In `encounter_scale_empty`, filled with the patients and doctors first, then emptied again."""
    db = f"{server}/{EMPTY_DB}"
    fresh_mysql(db)
    print("1M appointment import into MariaDB (patients and doctors first) ...", file=sys.stderr)
    bench.run(bench.encounter(db, "db", "init"))
    for table in ("patient", "doctor"):
        bench.run(bench.encounter(db, table, "import", str(folder / f"{table}s.csv")))
    sample = bench.run(bench.encounter(db, "appointment", "import", str(folder / "appointments.csv")), peak=True)
    fresh_mysql(db)
    return [rss_row(sample)]


# ---- per database, the report, main -----------------------------------------------------------------------


def fresh_copy(source: Path, target: Path) -> Path:
    remove_sqlite(target)
    shutil.copyfile(source, target)
    return target


def bench_sqlite(bench: Bench, folder: Path, clinic: Clinic, plan: Plan, groups: list[str]) -> list[Row]:
    rows = []
    if "commands" in groups:
        big = fresh_copy(folder / "big.db", bench.scratch / "big.db")
        empty = bench.scratch / "empty.db"
        make_empty(bench, f"sqlite:///{empty}", len(rare_doctors(clinic)))
        sides = (Side("empty", f"sqlite:///{empty}", 1, 1, 1),
                 Side("big", f"sqlite:///{big}", plan.day_doctor, plan.top_doctor, plan.patient))  # fmt: skip
        rows += measure_commands(bench, command_cases(clinic, plan), *sides)
    if "export" in groups:  # a copy as built: the bookings made above are not in it
        rows += measure_sqlite_export(bench, fresh_copy(folder / "big.db", bench.scratch / "big.db"), clinic)
    remove_sqlite(bench.scratch / "big.db")
    if "import" in groups:
        rows += measure_import(bench)
    if "rss" in groups:
        rows += measure_sqlite_rss(bench, folder)
    return rows


def bench_mysql(bench: Bench, server: str, folder: Path, clinic: Clinic, plan: Plan, groups: list[str]) -> list[Row]:
    rows = []
    tidy_mysql(server, plan)  # after a run that was cut short
    if "commands" in groups:
        fresh_mysql(f"{server}/{EMPTY_DB}")
        make_empty(bench, f"{server}/{EMPTY_DB}", len(rare_doctors(clinic)))
        sides = (Side("empty", f"{server}/{EMPTY_DB}", 1, 1, 1),
                 Side("big", f"{server}/{BIG_DB}", plan.day_doctor, plan.top_doctor, plan.patient))  # fmt: skip
        try:
            rows += measure_commands(bench, command_cases(clinic, plan), *sides)
        finally:
            tidy_mysql(server, plan)
    if "export" in groups:
        rows += measure_mysql_export(bench, server, clinic)
    if "rss" in groups:
        rows += measure_mysql_rss(bench, server, folder)
    return rows


def seconds(value: float | None, scale: float = 1.0, digits: int = 3) -> str:
    return "-" if value is None else f"{value * scale:.{digits}f}"


def ratio(value: float, base: Sample | None, attribute: str) -> str:
    return "-" if base is None else f"{value / getattr(base, attribute):.2f}"


def format_row(row: Row) -> str:
    base, value = row.base, row.value
    met = "-" if row.met is None else "yes" if row.met else "NO"
    base_wall, base_cpu = (None, None) if base is None else (base.wall, base.cpu)
    first_row, rss = seconds(value.first_row, 1000, 0), seconds(value.rss_mb, digits=0)
    return (f"{row.measure:44} {row.base_label:>12} {seconds(base_wall):>7} {seconds(base_cpu):>7}"
            f"  {row.label:>9} {seconds(value.wall):>7} {seconds(value.cpu):>7}"
            f"  {ratio(value.wall, base, 'wall'):>6} {ratio(value.cpu, base, 'cpu'):>5}"
            f"  {first_row:>7} {rss:>6}  {row.target:42} {met}")  # fmt: skip


def print_table(title: str, rows: list[Row]) -> None:
    print(f"\n{title}")
    print(f"{'measure':44} {'baseline':>12} {'wall s':>7} {'cpu s':>7}  {'measured':>9} {'wall s':>7} {'cpu s':>7}"
          f"  {'r.wall':>6} {'r.cpu':>5}  {'1st ms':>7} {'RSS MB':>6}  {'target':42} met")  # fmt: skip
    for row in rows:
        print(format_row(row))


def describe(key: str, folder: Path, plan: Plan, clinic: Clinic) -> str:
    return (f"cache key {key} ({folder})\n"
            f"data: {clinic.patients:,} patients, {clinic.doctors:,} doctors, {clinic.appointments:,} appointments"
            f" from {clinic.base_date}, seed {clinic.seed}\n"
            f"D = {plan.busy_day} ({plan.busy_day_bookings} bookings); X = doctor {plan.day_doctor}"
            f" ({plan.day_doctor_bookings} that day); book/deactivate: doctor {plan.top_doctor}"
            f" ({plan.top_doctor_bookings} bookings); patient show {plan.patient}\n"
            f"S = {RARE} ({len(rare_doctors(clinic))} doctors, {len(HOURS)} intervals of hours each, as every"
            f" doctor); its busiest day {plan.rare_day} ({plan.rare_day_bookings} bookings)")  # fmt: skip


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per figure (median), default 5")
    parser.add_argument("--skip-mysql", action="store_true", help="SQLite only")
    parser.add_argument("--only", action="append", choices=GROUPS, help="run this group only (repeatable)")
    parser.add_argument("--rebuild", action="store_true", help="build the data and the big databases again")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "encounter-bench"
    parser.add_argument("--cache-dir", type=Path, default=cache, help=f"default {cache}")
    server = os.environ.get("ENCOUNTER_BENCH_MYSQL_SERVER", "mysql+pymysql://root@127.0.0.1:3306")
    parser.add_argument("--mysql-server", default=server, help=f"server URL without a database, default {server}")
    parser.add_argument("--base-date", default=f"{date.today().year + 1}-01-01", help="first day of the data")
    return parser.parse_args()


def bench_env(folder: str) -> dict[str, str]:
    env = {**os.environ, "XDG_DATA_HOME": folder, "XDG_CONFIG_HOME": folder, "ENCOUNTER_TIMEZONE": "UTC"}
    for name in ("ENCOUNTER_DATABASE_URL", "ENCOUNTER_CONFIG", "ENCOUNTER_OUTPUT"):
        env.pop(name, None)
    return env


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: tidy MariaDB, remove the tmpfs files
    args = parse_args()
    groups = args.only or list(GROUPS)
    clinic = Clinic(PATIENTS, DOCTORS, APPOINTMENTS, SEED, args.base_date)
    scratch = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(dir=scratch, prefix="encounter-scale-") as work:
        bench = Bench(Path(sys.executable).parent, bench_env(work), Path(work), args.runs)
        key = cache_key(clinic, schema_fingerprint(bench))
        folder, sqlite_build = ensure_sqlite(bench, args.cache_dir.resolve(), key, clinic, args.rebuild)
        plan = Plan(**json.loads((folder / "plan.json").read_text()))
        mysql_build = None if args.skip_mysql else ensure_mysql(bench, args.mysql_server, folder, key, clinic,
                                                                 args.rebuild)  # fmt: skip
        print(describe(key, folder, plan, clinic))
        started = time.perf_counter()
        tables = [("SQLite", bench_sqlite(bench, folder, clinic, plan, groups))]
        if not args.skip_mysql:
            tables.append(("MariaDB", bench_mysql(bench, args.mysql_server, folder, clinic, plan, groups)))
        measuring = time.perf_counter() - started
    for name, rows in tables:
        if rows:  # MariaDB has no import group
            print_table(f"{name}: median of {args.runs} interleaved runs (wall and child CPU seconds)", rows)
    builds = [("SQLite", sqlite_build)] + ([] if args.skip_mysql else [("MariaDB", mysql_build)])
    built = ", ".join(f"{name} {'cached' if s is None else f'{s:.0f} s'}" for name, s in builds)
    print(f"\nbuild: {built}; measuring: {measuring:.0f} s")


if __name__ == "__main__":
    main()
