"""`encounter config show` / `config init`, the zone in `db info`, and `--db` forms of a SQLite file."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
from pathlib import Path

import pytest

from tests.helpers import CLINIC_ZONE, error_json, json_out

PASSWORD = "Sup3r-Secret-pw"
UNREACHABLE = "mysql+pymysql://clinic@127.0.0.1:1/clinic"  # nothing listens on port 1
EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "config.example.toml"
UTC_NOTE = "note: no clinic time zone is set and this machine's zone is UTC"
NO_ZONE = {"ENCOUNTER_TIMEZONE": None}


def shown(result) -> dict[str, tuple[object, str]]:
    """`config show -o json` as {setting: (value, source)}."""
    return {name: (fact["value"], fact["source"]) for name, fact in json_out(result).items()}


# --- config show ---------------------------------------------------------------------------------


def test_show_without_any_configuration_names_every_default(run_cli, isolated_env, tmp_path):
    settings = shown(run_cli("config", "show", "-o", "json", env={"TZ": "Asia/Tokyo", **NO_ZONE}))
    default_db = f"sqlite:///{tmp_path / 'data' / 'encounter' / 'encounter.db'}"
    assert settings == {
        "database_url": (default_db, "default"),
        "password_file": (None, "default"),
        "table_prefix": ("", "default"),
        "timezone": ("Asia/Tokyo", "default (the system zone)"),
        "hours": (None, "default"),
        "output": ("table", "default"),
        "config_path": (None, "default"),
    }
    assert not (tmp_path / "data").exists()  # it connects to nothing, so no database file is made


def test_show_names_option_environment_and_file(run_cli, tmp_path):
    config = tmp_path / "encounter.toml"  # ./encounter.toml: the tests run in tmp_path
    config.write_text(
        '[database]\nurl = "sqlite:////from/file.db"\npassword_file = "secret"\ntable_prefix = "clinic"\n'
        '[clinic]\ntimezone = "Europe/Berlin"\nhours = "mon-fri 09:00-17:00"\n'
    )
    in_file = f"file {config}"
    settings = shown(run_cli("config", "show", "-o", "json", env=NO_ZONE))
    assert settings == {
        "database_url": ("sqlite:////from/file.db", in_file),
        "password_file": (str(tmp_path / "secret"), in_file),
        "table_prefix": ("clinic", in_file),
        "timezone": ("Europe/Berlin", in_file),
        "hours": ("mon-fri 09:00-17:00", in_file),
        "output": ("table", "default"),
        "config_path": (str(config), "found in the current directory"),
    }
    env = {"ENCOUNTER_DATABASE_URL": "sqlite:////from/env.db", "ENCOUNTER_TIMEZONE": "Asia/Tokyo"}
    settings = shown(run_cli("config", "show", "-o", "json", env={**env, "ENCOUNTER_OUTPUT": "json"}))
    assert settings["database_url"] == ("sqlite:////from/env.db", "environment (ENCOUNTER_DATABASE_URL)")
    assert settings["timezone"] == ("Asia/Tokyo", "environment (ENCOUNTER_TIMEZONE)")
    assert settings["output"] == ("json", "environment (ENCOUNTER_OUTPUT)")
    other = tmp_path / "other.toml"
    other.write_text("")
    settings = shown(
        run_cli("--db", "sqlite:////opt.db", "--config", str(other), "config", "show", "-o", "json", env=env)
    )
    assert settings["database_url"] == ("sqlite:////opt.db", "option (--db)")
    assert settings["config_path"] == (str(other), "option (--config)")
    assert settings["table_prefix"] == ("", "default")
    settings = shown(run_cli("config", "show", "-o", "json", env={"ENCOUNTER_CONFIG": str(other)}))
    assert settings["config_path"] == (str(other), "environment (ENCOUNTER_CONFIG)")


def row(table: str, name: str) -> list[str]:
    """The words of the one line of a key/value table that starts with `name`, whatever borders are drawn."""
    (words,) = [words for line in table.splitlines() if (words := line.replace("│", " ").split())[:1] == [name]]
    return words


def test_show_for_people_is_one_line_per_setting_with_its_source(run_cli):
    table = run_cli("--db", "sqlite:////x.db", "config", "show").stdout
    assert table.splitlines()[0] == "Settings"
    assert row(table, "database_url") == ["database_url", "sqlite:////x.db", "[option", "(--db)]"]
    assert row(table, "timezone") == ["timezone", CLINIC_ZONE, "[environment", "(ENCOUNTER_TIMEZONE)]"]
    assert row(table, "output") == ["output", "table", "[default]"]
    for name in ("password_file", "table_prefix", "hours", "config_path"):
        assert row(table, name) == [name, "[default]"]


def test_show_as_csv_is_one_row_of_value_and_source_columns(run_cli):
    (only,) = csv.DictReader(io.StringIO(run_cli("config", "show", "-o", "csv").stdout))
    assert list(only)[:2] == ["database_url.value", "database_url.source"]
    assert (only["timezone.value"], only["timezone.source"]) == (CLINIC_ZONE, "environment (ENCOUNTER_TIMEZONE)")


@pytest.mark.parametrize("debug", [[], ["--debug"]])
def test_show_hides_the_password_and_works_without_the_server(run_cli, tmp_path, debug):
    """The URL's password is hidden, the password file's content never read; the server is never asked."""
    secret = tmp_path / "db-password"
    secret.write_text(PASSWORD + "\n")
    secret.chmod(0o644)  # a mode every connecting command refuses: show does not even open it
    config = tmp_path / "c.toml"
    config.write_text(f'[database]\nurl = "{UNREACHABLE}"\npassword_file = "db-password"\n')
    result = run_cli(*debug, "--config", str(config), "config", "show", "-o", "json")
    assert shown(result)["password_file"] == (str(secret), f"file {config}")
    assert shown(result)["database_url"][0] == UNREACHABLE
    with_password = UNREACHABLE.replace("clinic@", f"clinic:{PASSWORD}@") + f"?ssl_key_password={PASSWORD}"
    for fmt in ("table", "json", "csv"):
        result = run_cli(*debug, "--db", with_password, "config", "show", "-o", fmt)
        assert PASSWORD not in result.output and "***" in result.stdout


def test_show_warns_when_the_zone_is_unset_and_the_system_is_utc(run_cli):
    result = run_cli("config", "show", "-o", "json", env={"TZ": "UTC", **NO_ZONE})
    assert shown(result)["timezone"] == ("UTC", "default (the system zone)")
    assert result.stderr.startswith(UTC_NOTE)
    assert UTC_NOTE not in run_cli("config", "show", env={"TZ": "America/Chicago", **NO_ZONE}).stderr
    configured = run_cli("config", "show", "-o", "json", env={"TZ": "UTC", "ENCOUNTER_TIMEZONE": "UTC"})
    assert shown(configured)["timezone"] == ("UTC", "environment (ENCOUNTER_TIMEZONE)")
    assert configured.stderr == ""  # set on purpose: nothing to warn about


def test_show_exits_6_for_a_broken_configuration(run_cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[database]\nuser = 'x'\n")
    result = run_cli("--config", str(bad), "config", "show", "-o", "json", expect=6)
    assert "unknown key database.user" in error_json(result)["message"] and result.stdout == ""
    result = run_cli("config", "show", env={"ENCOUNTER_TIMEZONE": "Mars/Olympus"}, expect=6)
    assert 'timezone "Mars/Olympus" is not a known IANA time zone' in result.stderr
    result = run_cli("--db", "sqlite:///:memory:", "config", "show", expect=6)
    assert ":memory:" in result.stderr


def test_show_spells_out_a_plain_sqlite_path(run_cli, tmp_path):
    settings = shown(run_cli("--db", "clinic.db", "config", "show", "-o", "json"))
    assert settings["database_url"] == (f"sqlite:///{tmp_path / 'clinic.db'}", "option (--db)")
    assert not (tmp_path / "clinic.db").exists()


# --- config init ---------------------------------------------------------------------------------


def test_init_writes_the_example_to_the_xdg_path_once(run_cli, isolated_env):
    target = Path(isolated_env["XDG_CONFIG_HOME"]) / "encounter" / "config.toml"
    result = run_cli("config", "init")
    assert (result.stdout, result.stderr) == (f"{target}\n", "")  # it is the file encounter now reads
    assert target.read_bytes() == EXAMPLE_CONFIG.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    settings = shown(run_cli("config", "show", "-o", "json"))
    assert settings["config_path"] == (str(target), "found at the XDG path")
    assert {source for name, (_, source) in settings.items() if name not in ("config_path", "timezone")} == {"default"}

    target.write_text("# mine\n")
    refused = run_cli("config", "init", expect=5)
    assert f"config file {target} already exists" in refused.stderr
    assert target.read_text() == "# mine\n"


def test_init_with_a_path_writes_there_and_says_how_to_use_it(run_cli, tmp_path):
    target = tmp_path / "conf" / "clinic.toml"
    result = run_cli("config", "init", "--path", "conf/clinic.toml")
    assert result.stdout == f"{target}\n"
    assert result.stderr == f"note: encounter reads this file only when named: --config {target} or ENCOUNTER_CONFIG\n"
    assert target.read_bytes() == EXAMPLE_CONFIG.read_bytes()
    run_cli("config", "init", "--path", str(target), expect=5)

    (tmp_path / "encounter.toml").write_text("")  # ./encounter.toml comes before the XDG file
    result = run_cli("config", "init")
    assert (
        result.stderr
        == f"note: encounter reads {tmp_path / 'encounter.toml'} instead (found in the current directory)\n"
    )


def test_init_where_no_folder_can_be_made_exits_6(run_cli, tmp_path):
    (tmp_path / "a-file").write_text("")
    result = run_cli("config", "init", "--path", "a-file/config.toml", expect=6)
    assert f"cannot create folder {tmp_path / 'a-file'} for the config file" in result.stderr


# --- db info names the zone ---------------------------------------------------------------------


def test_db_info_names_the_clinic_zone(run_cli, tmp_path):
    url = f"sqlite:///{tmp_path / 'zone.db'}"
    assert json.loads(run_cli("--db", url, "db", "info", "-o", "json").stdout)["timezone"] == CLINIC_ZONE
    assert row(run_cli("--db", url, "db", "info").stdout, "timezone") == ["timezone", CLINIC_ZONE]
    system = run_cli("--db", url, "db", "info", env={"TZ": "Europe/Paris", **NO_ZONE}).stdout
    assert " ".join(row(system, "timezone")) == "timezone Europe/Paris (the system zone)"


# --- --db forms of a SQLite file ------------------------------------------------------------------


@pytest.mark.parametrize("given", ["x.db", "./x.db", "~/x.db"])
def test_db_takes_a_plain_path(run_cli, tmp_path, given):
    home = tmp_path / "home"
    home.mkdir()
    expected = home / "x.db" if given.startswith("~") else tmp_path / "x.db"
    first = run_cli("--db", given, "db", "info", "-o", "json", env={"HOME": str(home)})
    assert first.stderr == f"created a new SQLite database: {expected}\n"
    assert json.loads(first.stdout)["url"] == f"sqlite:///{expected}"
    assert stat.S_IMODE(expected.stat().st_mode) == 0o600
    assert run_cli("--db", given, "db", "info", env={"HOME": str(home)}).stderr == ""


def test_a_relative_sqlite_url_is_announced_with_its_absolute_path_and_the_four_slash_hint(run_cli, tmp_path):
    assert os.path.isdir("/tmp") and not (tmp_path / "tmp").exists()
    result = run_cli("--db", "sqlite:///tmp/nodir/x.db", "patient", "list")
    assert result.stderr == (
        f"created a new SQLite database: {tmp_path / 'tmp' / 'nodir' / 'x.db'}\n"
        "hint: sqlite:///tmp/nodir/x.db is relative to the current directory; "
        "for /tmp/nodir/x.db write sqlite:////tmp/nodir/x.db\n"
    )
    assert run_cli("--db", "sqlite:///tmp/nodir/x.db", "patient", "list").stderr == ""  # same file, now known


@pytest.mark.parametrize("url", ["sqlite:///clinic/x.db", "sqlite:///x.db", "sqlite:///nonexistent-top-dir/x.db"])
def test_a_relative_sqlite_url_with_no_likelier_absolute_meaning_gets_no_hint(run_cli, tmp_path, url):
    result = run_cli("--db", url, "patient", "list")
    assert result.stderr == f"created a new SQLite database: {tmp_path / url.removeprefix('sqlite:///')}\n"
