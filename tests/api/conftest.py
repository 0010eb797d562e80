"""The HTTP API through FastAPI's TestClient, on the `db_url` databases (SQLite and MariaDB).

`api(method, path, expect=200, json=...)` sends a request with a valid token and
checks the status, showing the body when it is wrong; `anonymous` has no token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from encounter_cli.api.app import create_app
from encounter_cli.db import Database
from encounter_cli.services import api_tokens
from tests.helpers import settings_for

Api = Callable[..., httpx2.Response]


@pytest.fixture
def token(database: Database) -> str:
    _, secret = database.run(lambda session: api_tokens.add_api_token(session, "test-suite"))
    return secret


@pytest.fixture
def anonymous(db_url: str) -> Iterator[TestClient]:
    """A client without a token, to a server that requires one."""
    app = create_app(settings_for(db_url))
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
    app.state.clinic.database.dispose()


def requester(client: TestClient, headers: dict[str, str]) -> Api:
    def send(method: str, path: str, expect: int = 200, **kwargs: Any) -> httpx2.Response:
        response = client.request(method, path, headers={**headers, **kwargs.pop("headers", {})}, **kwargs)
        assert response.status_code == expect, f"{method} {path}: {response.status_code} != {expect}\n{response.text}"
        return response

    return send


@pytest.fixture
def api(anonymous: TestClient, token: str) -> Api:
    return requester(anonymous, {"Authorization": f"Bearer {token}"})


def error_of(response: httpx2.Response) -> dict[str, Any]:
    """The error object of an error body, after checking the body's shape: detail is the message."""
    body = response.json()
    assert set(body) == {"detail", "error"}, body
    assert set(body["error"]) == {"type", "message", "details"}, body
    assert body["detail"] == body["error"]["message"]
    error: dict[str, Any] = body["error"]
    return error
