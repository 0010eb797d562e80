"""HTTP API under load: `encounter serve` beside a trivial FastAPI app served the same way (issue 9).

    python benchmarks/api_load.py                      # SQLite and MariaDB, 2 rounds of 10 s per figure side
    python benchmarks/api_load.py --only sqlite --seconds 5 --rounds 1
    python benchmarks/api_load.py --mysql-url mysql+pymysql://root@127.0.0.1:3306

Run it with the Python of the virtual environment that has encounter installed with its test extra
(`.venv/bin/python benchmarks/api_load.py`): the servers are that environment's `bin/encounter serve` and
`python -m uvicorn`, the load generator is httpx.

Targets (issue 9), each API figure against the floor measured in the same run on the same database's turn:
  GET  /appointments?date=D  (20 rows)          req/s >= 40 % of the floor's GET,  p99 < 150 ms
  POST /appointments         (a free 15-min slot) req/s >= 20 % of the floor's POST, p99 < 150 ms

The servers. `encounter serve --workers N` on a free port of 127.0.0.1, against a fresh database (a new
SQLite file; on MariaDB the database `encounter_apibench`, dropped and created again at the start and
dropped at the end), with a token from `encounter api-token add bench`, ENCOUNTER_TIMEZONE=Europe/Berlin
and private XDG folders. The floor: `floor_app` below (one GET returning a small constant JSON list, one
POST echoing its small JSON body with 201; plain `def` routes, as encounter's are, so both go through
Starlette's thread pool), run as `python -m uvicorn --factory benchmarks.api_load:floor_app --workers N`
with uvicorn's defaults as `encounter serve` has them (access log on, no server header). Both servers
write their logs to a file; lines other than the access log's and the start-up's are reported.

The data: 64 doctors, 200 patients and, on the clinic day D (30 days ahead), exactly 20 appointments,
seeded through the API. The POST scenario books distinct slots made in advance: 15-minute starts from
D+1 on, the doctors taking turns, so no request conflicts with another and consecutive requests lock
different doctors.

The load. --connections coroutines, each on its own keep-alive connection (an httpx.AsyncClient with
httpx.Limits(max_connections=1) each; --shared-pool: one AsyncClient with max_connections=--connections,
whose pool scans every connection on every request, which at 32 connections took about 3 times the client
CPU per request here and capped the floor near 200 req/s), each sending its next request as soon as the
previous answers, for --seconds after ~2 s of the same load untimed (warm-up). Every response is checked
(status, and the row count or the echoed/created record): anything else is an error, counted and listed by
kind, never dropped. req/s counts the good responses; p50 and p99 are their latencies. Each round measures
floor and API for each scenario, the order turning every round (floor first, then API first), so neither
side always follows the other's warm caches. Figures of all rounds are pooled.

CPU, over the timed windows. The server's: utime + stime from /proc of every process in its process group
(the uvicorn supervisor and its workers). The load generator's: this process's CPU time. The database
server's: a local mariadbd/mysqld process's. 'other': the machine's busy time (/proc/stat) less those, so
other work on the machine shows. The machine has 2 cores shared by all of them: a load generator whose
CPU nears the wall time is itself the limit, and then the floor's req/s is the client's ceiling more than
the floor's; a large 'other' means the figures were disturbed.

TCP_NODELAY. With --workers > 1 uvicorn binds the socket itself with protocol number 0, and asyncio sets
TCP_NODELAY only on sockets of protocol IPPROTO_TCP, so each reply on a kept-alive connection waited ~40 ms
for the client's delayed ACK. `encounter serve` passes uvicorn its own protocol class that sets it
(encounter_cli/api/server.py); the floor is run with the same class (--http), so both are served alike.
Targets are reported, never asserted: the exit code is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from itertools import count
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ZONE = "Europe/Berlin"
DOCTORS, PATIENTS, DAY_ROWS = 64, 200, 20
DAY_AHEAD = 30  # D, in days from today
WARM_UP_S = 2.0
START_TIMEOUT_S = 60.0
MYSQL_DATABASE = "encounter_apibench"
TARGETS = {"GET": 40.0, "POST": 20.0}  # % of the floor's req/s
P99_TARGET_MS = 150.0
FLOOR_FACTORY = "benchmarks.api_load:floor_app"
HTTP_PROTOCOL = "encounter_cli.api.server:NoDelayHTTPProtocol"  # what `encounter serve` passes uvicorn
REPO = Path(__file__).resolve().parents[1]
FLOOR_ROWS = [{"id": n, "name": f"row {n}", "active": True} for n in range(1, 4)]
LOG_ROUTINE = re.compile(r"Started server process|Waiting for application startup|Application startup complete"
                         r"|Uvicorn running on|Started parent process|Shutting down|Waiting for application shutdown"
                         r"|Application shutdown complete|Received SIGTERM|Finished server process"
                         r"|Stopping parent process|Terminated child process"
                         r"|Waiting for child process|Child process \[\d+\] died")  # fmt: skip
ACCESS_LINE = re.compile(r'" (\d{3})\b')


# ---- the floor: a trivial app, served by uvicorn exactly as encounter's ------------------------------------


def floor_app() -> Any:
    """The factory uvicorn runs (`--factory benchmarks.api_load:floor_app`)."""
    from fastapi import Body, FastAPI

    app = FastAPI()

    @app.get("/floor")
    def rows() -> list[dict[str, Any]]:
        return FLOOR_ROWS

    @app.post("/floor", status_code=201)
    def echo(body: dict[str, Any] = Body()) -> dict[str, Any]:  # noqa: B008 - FastAPI's way
        return body

    return app


# ---- servers -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    port: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """utime + stime of every live process in the server's process group (its own session)."""
        return processes_cpu(lambda group, _: group == self.process.pid)

    def stop(self) -> None:
        """SIGTERM to the process group (uvicorn stops its workers), SIGKILL after 15 s; then any straggler."""
        with contextlib.suppress(ProcessLookupError):
            if self.process.poll() is None:
                os.killpg(self.process.pid, signal.SIGTERM)
                try:
                    self.process.wait(15)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
            os.killpg(self.process.pid, signal.SIGKILL)  # workers outliving their supervisor: the group is ours

    def log_report(self) -> tuple[Counter[str], list[str]]:
        """Access-log status codes, and every line that is neither access log nor routine start/stop."""
        statuses: Counter[str] = Counter()
        unusual = []
        for line in self.log.read_text(errors="replace").splitlines():
            if ' - "' in line and (match := ACCESS_LINE.search(line)):
                statuses[match.group(1)] += 1
            elif line.strip() and not LOG_ROUTINE.search(line):
                unusual.append(line)
        return statuses, unusual


def processes_cpu(chosen: Callable[[int, str], bool]) -> float:
    """utime + stime of the live processes whose (process group, command name) are `chosen`, from /proc."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # a process that ended meanwhile
        name, fields = text[text.index("(") + 1 : text.rindex(")")], text[text.rindex(")") + 1 :].split()
        if chosen(int(fields[2]), name):  # fields[2]: the process group (field 5 of stat)
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def database_server_cpu() -> float:
    return processes_cpu(lambda _, name: name in ("mariadbd", "mysqld"))


def machine_busy() -> float:
    """CPU seconds all CPUs spent busy since boot (/proc/stat: every state but idle and iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def start_server(name: str, command: list[str], env: dict[str, str], work: Path, port: int) -> Server:
    log = work / f"{name}.log"
    with log.open("wb") as handle:  # the server's output goes to a file, which never fills as a pipe would
        process = subprocess.Popen(command, env=env, cwd=REPO, stdin=subprocess.DEVNULL, stdout=handle,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    return Server(name, process, log, port)


def wait_ready(server: Server, path: str, workers: int) -> None:
    """Until `path` answers 200 and every worker has logged its start-up."""
    import httpx

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited ({server.process.returncode}):\n{server.log.read_text()[-3000:]}")
        started = server.log.read_text(errors="replace").count("Application startup complete")
        try:
            if httpx.get(server.base_url + path, timeout=2).status_code == 200 and started >= workers:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{server.name} did not get ready in {START_TIMEOUT_S:.0f} s:\n{server.log.read_text()[-3000:]}")


def uvicorn_command(factory: str, port: int, args: argparse.Namespace) -> list[str]:
    """uvicorn as `encounter serve` runs it (uvicorn.run(factory, workers=N, server_header=False))."""
    command = [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(args.workers), "--no-server-header"]  # fmt: skip
    return command + ["--http", HTTP_PROTOCOL]


def encounter_bin() -> str:
    local = Path(sys.executable).with_name("encounter")
    return str(local) if local.exists() else shutil.which("encounter") or "encounter"


def encounter(env: dict[str, str], db: str, *args: str) -> str:
    done = subprocess.run([encounter_bin(), "--db", db, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"encounter {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


# ---- MariaDB -------------------------------------------------------------------------------------------


def mysql_url_for(server_url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def mysql_execute(url: str, *statements: str) -> None:
    import pymysql
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    conn = pymysql.connect(host=parsed.host, port=parsed.port or 3306, user=parsed.username,
                           password=parsed.password or "")  # fmt: skip
    try:
        with conn.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        conn.close()


# ---- the data ------------------------------------------------------------------------------------------


@dataclass
class Clinic:
    token: str
    day: date
    doctors: list[int]
    patients: list[int]
    slot_numbers: Iterator[int] = field(default_factory=count)  # shared by every POST run on this database

    def slot_body(self, n: int) -> bytes:
        """The n-th free slot: 15-minute starts from D+1 00:00 UTC on, the doctors taking turns."""
        doctor = self.doctors[n % len(self.doctors)]
        start = datetime.combine(self.day + timedelta(days=1), datetime.min.time(), timezone.utc)
        start += timedelta(minutes=15 * (n // len(self.doctors)))
        patient = self.patients[n % len(self.patients)]
        body = {"patient_id": patient, "doctor_id": doctor, "start_time": start.isoformat(), "duration_minutes": 15,
                "reason": "load test"}  # fmt: skip
        return json.dumps(body).encode()

    def slots(self, how_many: int) -> list[bytes]:
        return [self.slot_body(next(self.slot_numbers)) for _ in range(how_many)]


def seed(server: Server, token: str, zone: ZoneInfo) -> Clinic:
    import httpx

    day = date.today() + timedelta(days=DAY_AHEAD)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as client:

        def post(path: str, body: dict[str, Any]) -> int:
            response = client.post(path, json=body)
            if response.status_code != 201:
                raise SystemExit(f"seeding: POST {path} {body} -> {response.status_code} {response.text}")
            return int(response.json()["id"])

        doctors = [post("/doctors", {"full_name": f"Doctor {n}", "specialization": "General"}) for n in range(DOCTORS)]
        patients = [post("/patients", {"first_name": "Load", "last_name": f"Patient {n}",
                                       "email": f"patient{n}@example.org"}) for n in range(PATIENTS)]  # fmt: skip
        for n in range(DAY_ROWS):  # 08:00 to 12:45 clinic time, four doctors
            start = datetime.combine(day, datetime.min.time(), zone) + timedelta(hours=8, minutes=15 * (n // 4))
            post("/appointments", {"patient_id": patients[n], "doctor_id": doctors[n % 4],
                                   "start_time": start.isoformat(), "duration_minutes": 15})  # fmt: skip
        listed = client.get("/appointments", params={"date": day.isoformat()})
        if listed.status_code != 200 or len(listed.json()) != DAY_ROWS:
            raise SystemExit(f"seeding: GET /appointments?date={day} -> {listed.status_code} {listed.text[:500]}")
    return Clinic(token, day, doctors, patients)


# ---- the load ------------------------------------------------------------------------------------------


@dataclass
class Scenario:
    kind: str  # GET or POST
    side: str  # api or floor
    label: str
    path: str
    expected: int


@dataclass
class Result:
    ok: list[float] = field(default_factory=list)  # latencies, seconds
    errors: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    db_cpu: float = 0.0  # a local mariadbd/mysqld
    machine_cpu: float = 0.0  # every CPU's busy time over the window: what else ran shows as the rest

    def add(self, other: Result) -> None:
        self.ok += other.ok
        self.errors.update(other.errors)
        self.wall += other.wall
        self.server_cpu += other.server_cpu
        self.client_cpu += other.client_cpu
        self.db_cpu += other.db_cpu
        self.machine_cpu += other.machine_cpu

    @property
    def rate(self) -> float:
        return len(self.ok) / self.wall if self.wall else 0.0

    def percentile(self, share: float) -> float:
        ordered = sorted(self.ok)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000 if ordered else float("nan")


def check(scenario: Scenario, status: int, content: bytes) -> str | None:
    """None for the expected answer, else what was wrong (the error's kind)."""
    if status != scenario.expected:
        return f"status {status}"
    try:
        data = json.loads(content)
    except ValueError:
        return "not JSON"
    if scenario.kind == "GET":
        wanted = DAY_ROWS if scenario.side == "api" else len(FLOOR_ROWS)
        return None if isinstance(data, list) and len(data) == wanted else "wrong row count"
    return None if isinstance(data, dict) and data.get("doctor_id") else "wrong record"


async def hammer(server: Server, headers: dict[str, str], scenario: Scenario, bodies: list[bytes] | None,
                 seconds: float, connections: int, shared_pool: bool) -> Result:  # fmt: skip
    """`connections` coroutines sending requests back to back for `seconds`, each on its own keep-alive
    connection: its own AsyncClient of one connection, or with shared_pool one AsyncClient of `connections`.
    The CPU of server and generator is taken around the requests only, not the clients' set-up and close."""
    import httpx

    tls = ssl.create_default_context()  # one for all: an AsyncClient loads the CA certificates otherwise

    def client(size: int) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        return httpx.AsyncClient(base_url=server.base_url, headers=headers, limits=limits, timeout=60, verify=tls)

    result = Result()
    next_body = iter(bodies or [])
    clients = [client(connections)] if shared_pool else [client(1) for _ in range(connections)]
    deadline = time.perf_counter() + seconds

    async def worker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                if bodies is None:
                    response = await client.get(scenario.path)
                else:
                    body = next(next_body, None)
                    if body is None:
                        result.errors["ran out of prepared slots"] += 1
                        return
                    response = await client.post(scenario.path, content=body)
            except httpx.HTTPError as error:
                result.errors[type(error).__name__] += 1
                continue
            elapsed = time.perf_counter() - started
            problem = check(scenario, response.status_code, response.content)
            if problem is None:
                result.ok.append(elapsed)
            else:
                result.errors[problem] += 1

    server_before, client_before, machine_before = server.cpu_seconds(), time.process_time(), machine_busy()
    db_before = database_server_cpu()
    began = time.perf_counter()
    try:
        await asyncio.gather(*(worker(clients[n % len(clients)]) for n in range(connections)))
        result.wall = time.perf_counter() - began
        result.server_cpu = server.cpu_seconds() - server_before
        result.client_cpu = time.process_time() - client_before
        result.machine_cpu = machine_busy() - machine_before
        result.db_cpu = database_server_cpu() - db_before
    finally:
        for each in clients:
            await each.aclose()
    return result


def measure(server: Server, scenario: Scenario, clinic: Clinic, args: argparse.Namespace) -> Result:
    """~2 s of untimed warm-up, then --seconds measured, with the CPU of server and generator."""
    headers = {"Authorization": f"Bearer {clinic.token}", "Content-Type": "application/json"}
    # Enough prepared slots for 3,000 bookings a second (both sides post the same bodies, in turn).
    need = int(3000 * (WARM_UP_S + args.seconds)) if scenario.kind == "POST" else 0
    bodies = clinic.slots(need) if need else None
    split = int(need * WARM_UP_S / (WARM_UP_S + args.seconds))
    warm = bodies[:split] if bodies is not None else None
    timed = bodies[split:] if bodies is not None else None
    asyncio.run(hammer(server, headers, scenario, warm, WARM_UP_S, args.connections, args.shared_pool))
    return asyncio.run(hammer(server, headers, scenario, timed, args.seconds, args.connections, args.shared_pool))


# ---- one database --------------------------------------------------------------------------------------


def scenarios(day: date) -> list[tuple[Scenario, Scenario]]:
    """(floor, api) pairs, GET then POST."""
    return [
        (Scenario("GET", "floor", "floor GET", "/floor", 200),
         Scenario("GET", "api", f"GET /appointments?date={day}", f"/appointments?date={day}", 200)),
        (Scenario("POST", "floor", "floor POST (echo)", "/floor", 201),
         Scenario("POST", "api", "POST /appointments", "/appointments", 201)),
    ]  # fmt: skip


@dataclass
class Row:
    database: str
    scenario: Scenario
    result: Result
    floor: Result | None  # for the API rows


def bench_database(label: str, db: str, floor: Server, env: dict[str, str], work: Path,
                   args: argparse.Namespace, servers: list[Server]) -> list[Row]:  # fmt: skip
    encounter(env, db, "db", "init")
    token = json.loads(encounter(env, db, "api-token", "add", "bench", "-o", "json"))["token"]
    port = free_port()
    command = [encounter_bin(), "--db", db, "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(args.workers)]  # fmt: skip
    api = start_server(f"encounter-{label}", command, env, work, port)
    servers.append(api)
    wait_ready(api, "/health", args.workers)
    clinic = seed(api, token, ZoneInfo(ZONE))
    print(f"{label}: D = {clinic.day}, server log {api.log}", file=sys.stderr)
    totals: dict[str, Result] = {}
    pairs = scenarios(clinic.day)
    for round_ in range(args.rounds):
        for pair in pairs:
            for scenario in pair if round_ % 2 == 0 else reversed(pair):
                server = floor if scenario.side == "floor" else api
                result = measure(server, scenario, clinic, args)
                totals.setdefault(scenario.label, Result()).add(result)
                print(f"  round {round_ + 1}: {scenario.label:36} {result.rate:8.0f} req/s"
                      f"  errors {sum(result.errors.values())}", file=sys.stderr)  # fmt: skip
    rows = []
    for floor_scenario, api_scenario in pairs:
        floor_result = totals[floor_scenario.label]
        rows.append(Row(label, floor_scenario, floor_result, None))
        rows.append(Row(label, api_scenario, totals[api_scenario.label], floor_result))
    return rows


# ---- the report ----------------------------------------------------------------------------------------


def print_table(rows: list[Row], args: argparse.Namespace) -> None:
    header = (f"{'database':8} | {'scenario':36} | {'req/s':>6} | {'p50 ms':>6} | {'p99 ms':>6} | {'errors':>6} |"
              f" {'% of floor req/s':>16} | {'wall s':>6} | {'server cpu s':>12} | {'ms/req':>6} |"
              f" {'loadgen cpu s':>13} | {'db cpu s':>8} | {'other cpu s':>11}")  # fmt: skip
    print(header)
    print("-" * len(header))
    for row in rows:
        r = row.result
        share = f"{100 * r.rate / row.floor.rate:.0f} %" if row.floor and row.floor.rate else "-"
        per_request = f"{1000 * r.server_cpu / len(r.ok):.2f}" if r.ok else "-"
        other = r.machine_cpu - r.server_cpu - r.client_cpu - r.db_cpu
        print(f"{row.database:8} | {row.scenario.label:36} | {r.rate:6.0f} | {r.percentile(0.5):6.1f} |"
              f" {r.percentile(0.99):6.1f} | {sum(r.errors.values()):6} | {share:>16} | {r.wall:6.1f} |"
              f" {r.server_cpu:12.1f} | {per_request:>6} | {r.client_cpu:13.1f} | {r.db_cpu:8.1f} |"
              f" {other:11.1f}")  # fmt: skip
    print(
        f"\n{args.rounds} round(s) x {args.seconds:g} s per row after {WARM_UP_S:g} s warm-up each;"
        f" {args.connections} connections ({'one shared AsyncClient' if args.shared_pool else 'an AsyncClient each'});"
        f" {args.workers} uvicorn workers per server."
    )
    print(
        f"{os.cpu_count()} CPUs shared by the servers, the load generator (this process, one Python thread:"
        " 'loadgen cpu s') and, on MariaDB, the database server ('db cpu s', a local mariadbd or mysqld)."
        " 'other cpu s' is the machine's busy time over the windows less those: other work on the machine."
    )
    print(
        "req/s counts the expected answers only; p50/p99 are their latencies; server cpu is every process of"
        " the server's process group over the timed windows; ms/req is that per request."
    )
    for row in rows:
        if row.result.errors:
            kinds = ", ".join(f"{kind}: {n}" for kind, n in row.result.errors.most_common())
            print(f"errors, {row.database} {row.scenario.label}: {kinds}")
    print(f"\ntargets (GET >= {TARGETS['GET']:.0f} % of floor req/s, POST >= {TARGETS['POST']:.0f} %,"
          f" p99 < {P99_TARGET_MS:.0f} ms):")  # fmt: skip
    for row in rows:
        if row.floor is None:
            continue
        r, floor_rate = row.result, row.floor.rate
        share = 100 * r.rate / floor_rate if floor_rate else 0.0
        target = TARGETS[row.scenario.kind]
        p99 = r.percentile(0.99)
        print(f"  {row.database:8} {row.scenario.label:36} req/s {share:5.1f} % of floor (>= {target:.0f} %)"
              f" {'met' if share >= target else 'MISSED'};  p99 {p99:.1f} ms (< {P99_TARGET_MS:.0f} ms)"
              f" {'met' if p99 < P99_TARGET_MS else 'MISSED'};  errors {sum(r.errors.values())}")  # fmt: skip


def print_logs(servers: list[Server]) -> None:
    print("\nserver logs:")
    for server in servers:
        statuses, unusual = server.log_report()
        codes = ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())) or "none"
        print(f"  {server.name}: access log statuses {codes}; {len(unusual)} other line(s)")
        for line in unusual[:10]:
            print(f"    {line[:200]}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per figure and round (10)")
    parser.add_argument("--connections", type=int, default=32, help="concurrent connections and coroutines (32)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of each server (2)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds, the order of floor and API turning (2)")
    parser.add_argument("--only", choices=("sqlite", "mysql"), help="one database only")
    parser.add_argument("--shared-pool", action="store_true",
                        help="one AsyncClient with Limits(max_connections=N) for all coroutines instead of one"
                             " client of one connection each (httpcore's pool then scans every connection on every"
                             " request: several times the client CPU)")  # fmt: skip
    default_mysql = os.environ.get("ENCOUNTER_TEST_MYSQL_URL")
    parser.add_argument("--mysql-url", default=default_mysql,
                        help="MariaDB/MySQL server URL (default ENCOUNTER_TEST_MYSQL_URL); its database part is"
                             f" replaced by {MYSQL_DATABASE}, which is dropped and created again")  # fmt: skip
    return parser.parse_args()


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop the servers, drop the database
    args = parse_args()
    rows: list[Row] = []
    servers: list[Server] = []
    mysql_url = None
    with tempfile.TemporaryDirectory(prefix="encounter-apiload-") as work_dir:
        work = Path(work_dir)
        env = {**os.environ, "XDG_DATA_HOME": work_dir, "XDG_CONFIG_HOME": work_dir, "ENCOUNTER_TIMEZONE": ZONE,
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}  # fmt: skip
        for name in ("ENCOUNTER_DATABASE_URL", "ENCOUNTER_CONFIG", "ENCOUNTER_OUTPUT", "ENCOUNTER_SERVE_NO_AUTH"):
            env.pop(name, None)
        try:
            port = free_port()
            floor = start_server("floor", uvicorn_command(FLOOR_FACTORY, port, args), env, work, port)
            servers.append(floor)
            wait_ready(floor, "/floor", args.workers)
            if args.only != "mysql":
                rows += bench_database("sqlite", f"sqlite:///{work / 'clinic.db'}", floor, env, work, args, servers)
            if args.only != "sqlite":
                if args.mysql_url:
                    mysql_url = mysql_url_for(args.mysql_url, MYSQL_DATABASE)
                    mysql_execute(mysql_url, f"DROP DATABASE IF EXISTS `{MYSQL_DATABASE}`",
                                  f"CREATE DATABASE `{MYSQL_DATABASE}` CHARACTER SET utf8mb4")  # fmt: skip
                    rows += bench_database("mariadb", mysql_url, floor, env, work, args, servers)
                else:
                    print("MariaDB skipped: no --mysql-url and no ENCOUNTER_TEST_MYSQL_URL", file=sys.stderr)
        finally:
            for server in servers:
                server.stop()
            if mysql_url:
                mysql_execute(mysql_url, f"DROP DATABASE IF EXISTS `{MYSQL_DATABASE}`")
        print()
        if args.only != "sqlite" and not args.mysql_url:
            print("note: MariaDB skipped (no --mysql-url and no ENCOUNTER_TEST_MYSQL_URL)\n")
        print_table(rows, args)
        print_logs(servers)


if __name__ == "__main__":
    main()
