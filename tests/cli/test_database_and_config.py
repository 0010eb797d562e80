"""`encounter db ...`, configuration precedence, the default SQLite file and password hygiene."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import error_json, json_out

PASSWORD = "Sup3r-Secret-pw"


def test_version(run_cli):
    from encounter_cli import __version__

    assert run_cli("--version").stdout == f"encounter {__version__}\n"


def test_default_database_is_a_private_sqlite_file_made_on_first_use(run_cli, isolated_env):
    run_cli("doctor", "add", "--full-name", "A", "--specialization", "B")
    path = os.path.join(isolated_env["XDG_DATA_HOME"], "encounter", "encounter.db")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json_out(run_cli("doctor", "list", "-o", "json"))[0]["full_name"] == "A"
    info = json.loads(run_cli("db", "info", "-o", "json").stdout)
    assert info["dialect"] == "sqlite" and info["tables"] == {
        "doctors": 1,
        "patients": 0,
        "appointments": 0,
        "apiTokens": 0,
        "doctorHours": 0,
        "doctorTimeOff": 0,
        "auditLog": 1,  # the doctor added
    }


def test_precedence_option_over_environment_over_file(run_cli, tmp_path):
    config = tmp_path / "encounter.toml"  # ./encounter.toml: the tests run in tmp_path
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path}/from-file.db"\n')
    env_url = f"sqlite:///{tmp_path}/from-env.db"
    option_url = f"sqlite:///{tmp_path}/from-option.db"
    assert "from-file.db" in run_cli("db", "info").stdout
    assert "from-env.db" in run_cli("db", "info", env={"ENCOUNTER_DATABASE_URL": env_url}).stdout
    assert "from-option.db" in run_cli("--db", option_url, "db", "info", env={"ENCOUNTER_DATABASE_URL": env_url}).stdout


def test_config_errors_exit_6(run_cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[database]\nuser = 'x'\n")
    assert "unknown key database.user" in run_cli("--config", str(bad), "db", "info", expect=6).stderr
    bad.write_text("not toml [")
    run_cli("--config", str(bad), "db", "info", expect=6)
    run_cli("--config", str(tmp_path / "absent.toml"), "db", "info", expect=6)
    run_cli("patient", "list", env={"ENCOUNTER_TIMEZONE": "Mars/Olympus"}, expect=6)
    bad.write_bytes(b"[clinic]\ntimezone = 'Z\xfcrich'\n")  # Latin-1, not UTF-8
    assert f"config file {bad} is not UTF-8 text" in run_cli("--config", str(bad), "db", "info", expect=6).stderr
    assert "is a directory" in run_cli("--config", str(tmp_path), "db", "info", expect=6).stderr.lower()


def test_config_from_dev_null_and_from_process_substitution(run_cli, tmp_path, isolated_env):
    run_cli("--config", "/dev/null", "--db", f"sqlite:///{tmp_path / 'null.db'}", "db", "info")
    if not shutil.which("bash"):
        pytest.skip("needs bash for <(...)")
    toml = f'[database]\nurl = "sqlite:///{tmp_path / "from-pipe.db"}"\n'
    command = f"{shlex.quote(sys.executable)} -m encounter_cli --config <(printf %s {shlex.quote(toml)}) db info"
    env = {k: v for k, v in {**os.environ, **isolated_env}.items() if v is not None}
    done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "from-pipe.db" in done.stdout


def test_a_bad_time_zone_stops_a_write_before_it_happens(run_cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'zone.db'}"
    add = ("--db", url, "patient", "add", "--first-name", "A", "--last-name", "B", "--email", "a@example.org")
    run_cli(*add, env={"ENCOUNTER_TIMEZONE": "Mars/Olympus"}, expect=6)
    assert json_out(run_cli("--db", url, "patient", "list", "-o", "json")) == []


def test_table_prefix_makes_camel_case_tables(run_cli, db_url, prefixed):
    out = run_cli(*prefixed, "db", "init").stdout
    assert "scratchPatients" in out and "scratchDoctors" in out and "scratchAppointments" in out
    run_cli(*prefixed, "doctor", "add", "--full-name", "A", "--specialization", "B")
    info = json.loads(run_cli(*prefixed, "db", "info", "-o", "json").stdout)
    assert info["tables"] == {
        "scratchDoctors": 1,
        "scratchPatients": 0,
        "scratchAppointments": 0,
        "scratchApiTokens": 0,
        "scratchDoctorHours": 0,
        "scratchDoctorTimeOff": 0,
        "scratchAuditLog": 1,
    }
    assert json_out(run_cli("--db", db_url, "doctor", "list", "-o", "json")) == []


def test_db_init_is_idempotent(cli):
    cli("db", "init")
    assert "all tables and indexes already exist" in cli("db", "init").stdout


@pytest.mark.mysql_only
def test_server_database_without_tables_says_to_run_db_init(run_cli, tmp_path, mysql_url):
    config = tmp_path / "other.toml"
    config.write_text('[database]\ntable_prefix = "absent"\n')
    result = run_cli("--db", mysql_url, "--config", str(config), "patient", "list", "-o", "json", expect=6)
    assert "encounter db init" in result.stderr
    table = run_cli("--db", mysql_url, "--config", str(config), "db", "info").stdout
    assert re.search(r"absentPatients +(│ )?missing \(run: encounter db init\)", table)  # boxed or piped


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_password_never_appears_in_output(run_cli, debug):
    url = f"mysql+pymysql://clinic:{PASSWORD}@127.0.0.1:1/clinic"
    result = run_cli(*debug, "--db", url, "patient", "list", "-o", "json", expect=6)
    assert PASSWORD not in result.output
    assert "***" in result.stderr
    assert error_json(result)["type"] == "unavailable"


def test_password_file_must_be_private(run_cli, tmp_path):
    secret = tmp_path / "db-password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o644)
    config = tmp_path / "c.toml"
    config.write_text('[database]\nurl = "mysql+pymysql://clinic@127.0.0.1:1/clinic"\npassword_file = "db-password"\n')
    refused = run_cli("--config", str(config), "patient", "list", expect=6)
    assert "0600 or 0400" in refused.stderr and PASSWORD not in refused.output
    secret.chmod(0o600)
    unreachable = run_cli("--config", str(config), "patient", "list", expect=6)
    assert "***" in unreachable.stderr and PASSWORD not in unreachable.output


@pytest.mark.mysql_only
def test_wrong_credentials_exit_6_without_the_password(run_cli, mysql_url):
    from sqlalchemy.engine import make_url

    url = make_url(mysql_url).set(username="nobody", password=PASSWORD)
    result = run_cli("--db", url.render_as_string(hide_password=False), "patient", "list", expect=6)
    assert "Access denied" in result.stderr and PASSWORD not in result.output


HEAVY = ("sqlalchemy", "pydantic", "email_validator", "pymysql")
PROBE = """
import sys
from encounter_cli.cli.app import app
try:
    app(sys.argv[1:], prog_name="encounter")
except SystemExit:
    pass
print(sorted({m.split(".")[0] for m in sys.modules} & set(sys.argv[0].split(","))))
"""


@pytest.mark.slow
@pytest.mark.parametrize("args", [[], ["patient", "add"], ["appointment", "list"], ["db", "init"]])
def test_help_does_not_import_sqlalchemy_or_pydantic(args):
    command = [sys.executable, "-c", PROBE.replace("sys.argv[0]", repr(",".join(HEAVY))), *args, "--help"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_every_command_documents_itself_with_an_example(run_cli):
    from typer.main import get_command

    from encounter_cli.cli.app import app

    root = get_command(app)
    for group_name, group in root.commands.items():
        commands = getattr(group, "commands", {"": group})  # `serve` is a command of its own, not a group
        for name, command in commands.items():
            assert command.help and "Example: encounter" in command.help, f"{group_name} {name} lacks an example"
            run_cli(*filter(None, (group_name, name)), "--help")


@pytest.mark.parametrize(
    "url",
    [
        f"mysql+pymysql://root:p@{PASSWORD}@127.0.0.1/x",  # unencoded @ in the password
        f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:abc/x",  # port is not a number
        f"mysql+pymysql://root:{PASSWORD}@127.0.0.1:3306/x?no_such_option=1",
    ],
)
def test_malformed_database_urls_exit_6_without_the_password(run_cli, url):
    result = run_cli("--db", url, "patient", "list", expect=6)
    assert PASSWORD not in result.output and "Traceback" not in result.output


def test_an_unreadable_password_file_exits_6(run_cli, tmp_path):
    (tmp_path / "secret-dir").mkdir(mode=0o700)
    config = tmp_path / "c.toml"
    config.write_text('[database]\nurl = "mysql+pymysql://clinic@127.0.0.1:1/clinic"\npassword_file = "secret-dir"\n')
    assert "password_file" in run_cli("--config", str(config), "patient", "list", expect=6).stderr


EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_config_example_is_safe_to_copy_as_is(run_cli, isolated_env):
    info = json_out(run_cli("--config", str(EXAMPLE_CONFIG), "db", "info", "-o", "json"))
    assert info["dialect"] == "sqlite" and isolated_env["XDG_DATA_HOME"] in info["url"]


def test_config_example_documents_only_known_keys(tmp_path):
    """Every example key, uncommented, is one encounter reads."""
    from encounter_cli.config import load_settings

    text = re.sub(r"^# (\w+ = )", r"\1", EXAMPLE_CONFIG.read_text(), flags=re.MULTILINE)
    uncommented = tmp_path / "config.toml"
    uncommented.write_text(text)
    settings = load_settings(config_option=uncommented, environ={})
    assert (settings.database_url, settings.timezone) == (
        "mysql+pymysql://clinic@db.example.org:3306/clinic",
        "Europe/Berlin",
    )
