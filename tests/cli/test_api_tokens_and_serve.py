"""`encounter api-token ...` and `encounter serve`'s checks before it listens."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from encounter_cli.db import Database
from encounter_cli.services import api_tokens
from tests.helpers import error_json, json_out, settings_for


def test_add_prints_the_token_once_and_stores_only_its_hash(cli, db_url):
    result = cli("api-token", "add", "reception-desk")
    token = result.stdout.strip()
    assert token.startswith("enc_") and len(token) >= 4 + 43  # 32 random bytes
    assert "shown only now" in result.stderr
    database = Database(settings_for(db_url))
    assert database.run(lambda session: api_tokens.token_holder(session, token), write=False) == "reception-desk"
    stored = database.run(lambda session: [t.token_hash for t in api_tokens.list_api_tokens(session)], write=False)
    database.dispose()
    assert token not in stored[0] and len(stored[0]) == 64
    listed = cli("api-token", "list", "-o", "json").stdout
    assert token not in listed and stored[0] not in listed
    assert [t["name"] for t in json_out(cli("api-token", "list", "-o", "json"))] == ["reception-desk"]


def test_add_as_json_carries_the_token(cli):
    created = json_out(cli("api-token", "add", "lab", "-o", "json"))
    assert set(created) == {"id", "name", "created_at", "token"} and created["token"].startswith("enc_")


def test_names_are_unique_and_revoking_an_unknown_one_is_not_found(cli):
    cli("api-token", "add", "lab")
    assert error_json(cli("api-token", "add", "lab", "-o", "json", expect=5))["type"] == "conflict"
    assert 'API token "nobody" does not exist' in cli("api-token", "revoke", "nobody", expect=4).stderr
    cli("api-token", "revoke", "lab")
    assert json_out(cli("api-token", "list", "-o", "json")) == []
    cli("api-token", "add", " ", expect=3)


def test_serve_without_the_api_extra_exits_6_with_the_install_command(run_cli, monkeypatch):
    monkeypatch.setitem(sys.modules, "fastapi", None)  # what `import fastapi` finds when it is not installed
    result = run_cli("serve", expect=6)
    assert "pip install 'encounter[api]'" in result.stderr and "fastapi" in result.stderr


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "example.org"])
def test_no_auth_is_refused_off_loopback(run_cli, host):
    result = run_cli("serve", "--no-auth", "--host", host, expect=2)
    assert "loopback" in result.stderr


def test_a_port_in_use_is_a_usage_error(run_cli):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = run_cli("serve", "--port", str(taken.getsockname()[1]), expect=2)
    assert "is in use" in result.stderr


@pytest.mark.mysql_only
def test_serve_on_a_server_database_without_tables_exits_6(run_cli, prefixed):
    result = run_cli(*prefixed, "serve", expect=6)
    assert "run: encounter db init" in result.stderr and "scratchApiTokens" in result.stderr


@pytest.mark.slow  # a Python process of its own
def test_help_does_not_import_the_web_framework():
    code = (
        "import sys\n"
        "from encounter_cli.cli.app import app\n"
        "try:\n    app(['--help'], prog_name='encounter')\nexcept SystemExit:\n    pass\n"
        "assert 'fastapi' not in sys.modules and 'uvicorn' not in sys.modules, 'imported'\n"
        "print('clean')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().endswith("clean") and "serve" in result.stdout


def test_revoke_reads_the_name_as_add_stored_it(cli):
    cli("api-token", "add", " desk ")
    assert 'API token "desk" revoked' in cli("api-token", "revoke", " desk ").stderr


@pytest.mark.parametrize(
    "args",
    [
        ("doctor", "add", "--full-name", "A\udcff", "--specialization", "x"),
        ("patient", "list", "--search", "\udcff"),
        ("serve", "--host", "\udcff"),
    ],
)
def test_an_argument_that_is_not_utf8_is_a_usage_error_not_a_crash(cli, args):
    result = cli(*args, expect=2)  # bytes that are not UTF-8 reach Python as lone surrogates
    assert 'argument "' in result.stderr and "is not valid UTF-8 text" in result.stderr and "\\udcff" in result.stderr


def test_a_database_url_that_is_not_utf8_is_unavailable(run_cli):
    result = run_cli("patient", "list", expect=6, env={"ENCOUNTER_DATABASE_URL": "sqlite:////tmp/\udcff.db"})
    assert "database URL is not valid UTF-8 text" in result.stderr
