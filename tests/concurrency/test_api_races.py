"""Rules 1 and 5 through a real `encounter serve --workers 2`: concurrent requests over loopback.

On the SQLite file and the MariaDB server (`db_url`); what is stored is read back afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx2
import pytest

from encounter_cli.db import Database
from encounter_cli.services import api_tokens
from tests.helpers import count, running_server

pytestmark = pytest.mark.slow  # real server processes

BOOKINGS = 50
SIGN_UPS = 20


async def post_all(base: str, token: str, path: str, bodies: list[dict]) -> Counter[int]:
    """Send every body at once, each on its own connection; count the statuses."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx2.Limits(max_connections=len(bodies))
    async with httpx2.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=120) as client:
        await asyncio.gather(*(client.get("/health") for _ in bodies))  # open the connections first
        answers = await asyncio.gather(*(client.post(path, json=body) for body in bodies))
    return Counter(answer.status_code for answer in answers)


@pytest.fixture
def token(database: Database) -> str:
    return database.run(lambda session: api_tokens.add_api_token(session, "race"))[1]


def test_fifty_bookings_of_one_slot_give_one_201_and_49_conflicts(db_url, database, token):
    with running_server(db_url, "--workers", "2") as base:
        setup = httpx2.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
        for n in range(BOOKINGS):
            setup.post("/patients", json={"first_name": f"P{n}", "last_name": "Race", "email": f"p{n}@example.org"})
        assert setup.post("/doctors", json={"full_name": "Dr Race", "specialization": "General"}).status_code == 201
        bodies = [
            {"patient_id": n + 1, "doctor_id": 1, "start_time": "2031-03-03T14:00:00Z", "duration_minutes": 30}
            for n in range(BOOKINGS)
        ]
        statuses = asyncio.run(post_all(base, token, "/appointments", bodies))
    assert statuses == Counter({201: 1, 409: BOOKINGS - 1})
    assert count(database, "Appointment") == 1


def test_twenty_sign_ups_with_one_email_give_one_patient(db_url, database, token):
    with running_server(db_url, "--workers", "2") as base:
        bodies = [{"first_name": f"P{n}", "last_name": "Race", "email": "Same@Example.org"} for n in range(SIGN_UPS)]
        statuses = asyncio.run(post_all(base, token, "/patients", bodies))
    assert statuses == Counter({201: 1, 409: SIGN_UPS - 1})
    assert count(database, "Patient") == 1


def test_reads_are_served_while_writers_wait_for_the_sqlite_lock(tmp_path):
    """Writers queue on threads of their own: a read is answered while 24 writes wait for another
    process's write lock (more than all of a worker's threads), and the writes go through afterwards."""
    import sqlite3
    from concurrent.futures import ThreadPoolExecutor

    from fastapi.testclient import TestClient

    from encounter_cli.api.app import create_app
    from tests.helpers import settings_for

    path = tmp_path / "clinic.db"
    app = create_app(settings_for(f"sqlite:///{path}"), open_access=True)
    with TestClient(app, base_url="http://127.0.0.1") as client, ThreadPoolExecutor(24) as pool:
        assert client.get("/health").status_code == 200  # the tables exist
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")  # another process's import, say
        bodies = [{"first_name": "W", "last_name": str(n), "email": f"w{n}@example.org"} for n in range(24)]
        writes = [pool.submit(client.post, "/patients", json=body) for body in bodies]
        time.sleep(0.5)  # let every write reach the lock (not a timing assertion: a head start)
        assert client.get("/patients").status_code == 200
        assert not any(write.done() for write in writes)  # the read did not wait for them
        other.execute("COMMIT")
        assert sorted(write.result().status_code for write in writes) == [201] * 24
        other.close()
    app.state.clinic.database.dispose()
