"""Settings precedence, config-file validation and password files (README: Configuration)."""

from __future__ import annotations

import os
import re
import stat
import sys
import threading
from dataclasses import replace
from importlib.resources import files
from pathlib import Path

import pytest

from encounter_cli.config import KNOWN_KEYS, Settings, load_settings, read_password_file, write_starter_config
from encounter_cli.db import resolve_url
from encounter_cli.errors import Conflict, Unavailable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

OPTION_URL = "sqlite:////from/option.db"
ENV_URL = "sqlite:////from/env.db"
FILE_URL = "sqlite:////from/file.db"


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A clean working directory (no ./encounter.toml) inside tmp_path."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return tmp_path


@pytest.fixture
def environ(home) -> dict[str, str]:
    """A private XDG tree and none of our variables."""
    return {"XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def config_file(home: Path, text: str, name: str = "explicit.toml") -> Path:
    return write(home / "conf" / name, text)


# --- precedence --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "env", "in_file", "expected"),
    [
        (True, True, True, OPTION_URL),
        (True, False, False, OPTION_URL),
        (False, True, True, ENV_URL),
        (False, True, False, ENV_URL),
        (False, False, True, FILE_URL),
        (False, False, False, "default"),
    ],
)
def test_database_url_precedence(home, environ, option, env, in_file, expected):
    if env:
        environ["ENCOUNTER_DATABASE_URL"] = ENV_URL
    config = config_file(home, f'[database]\nurl = "{FILE_URL}"\n' if in_file else "")
    settings = load_settings(db_option=OPTION_URL if option else None, config_option=config, environ=environ)
    if expected == "default":
        expected = f"sqlite:///{home / 'data' / 'encounter' / 'encounter.db'}"
    assert settings.database_url == expected
    assert settings.config_path == config


@pytest.mark.parametrize(
    ("env", "in_file", "expected"),
    [(True, True, "Asia/Tokyo"), (True, False, "Asia/Tokyo"), (False, True, "Europe/Berlin"), (False, False, "")],
)
def test_timezone_precedence(home, environ, env, in_file, expected):
    if env:
        environ["ENCOUNTER_TIMEZONE"] = "Asia/Tokyo"
    config = config_file(home, '[clinic]\ntimezone = "Europe/Berlin"\n' if in_file else "")
    assert load_settings(config_option=config, environ=environ).timezone == expected


def test_defaults_without_any_configuration(home, environ):
    settings = load_settings(environ=environ)
    assert settings == Settings(
        database_url=f"sqlite:///{home / 'data' / 'encounter' / 'encounter.db'}",
        password_file=None,
        table_prefix="",
        timezone="",
        config_path=None,
    )


def test_default_database_lives_under_home_without_xdg(home, monkeypatch):
    monkeypatch.setenv("HOME", str(home / "user"))
    settings = load_settings(environ={"XDG_CONFIG_HOME": str(home / "config")})
    assert settings.database_url == f"sqlite:///{home / 'user' / '.local' / 'share' / 'encounter' / 'encounter.db'}"


def test_config_file_search_order(home, environ):
    """--config > ENCOUNTER_CONFIG > ./encounter.toml > $XDG_CONFIG_HOME/encounter/config.toml."""
    xdg = write(home / "config" / "encounter" / "config.toml", '[database]\nurl = "sqlite:////xdg.db"\n')
    assert load_settings(environ=environ).config_path == xdg
    assert load_settings(environ=environ).database_url == "sqlite:////xdg.db"

    local = write(Path("encounter.toml"), '[database]\nurl = "sqlite:////local.db"\n')
    assert load_settings(environ=environ).config_path == local
    assert load_settings(environ=environ).database_url == "sqlite:////local.db"

    env_file = config_file(home, '[database]\nurl = "sqlite:////envfile.db"\n', "env.toml")
    environ["ENCOUNTER_CONFIG"] = str(env_file)
    assert load_settings(environ=environ).database_url == "sqlite:////envfile.db"

    option_file = config_file(home, '[database]\nurl = "sqlite:////optionfile.db"\n', "option.toml")
    settings = load_settings(config_option=option_file, environ=environ)
    assert (settings.config_path, settings.database_url) == (option_file, "sqlite:////optionfile.db")


@pytest.mark.parametrize("via", ["option", "env"])
def test_a_named_config_file_must_exist(home, environ, via):
    missing = home / "nope.toml"
    kwargs = {"config_option": missing} if via == "option" else {}
    if via == "env":
        environ["ENCOUNTER_CONFIG"] = str(missing)
    with pytest.raises(Unavailable) as caught:
        load_settings(environ=environ, **kwargs)
    assert str(missing) in caught.value.message


def test_all_known_keys_are_read(home, environ):
    config = config_file(
        home,
        '[database]\nurl = "mysql+pymysql://clinic@db:3306/clinic"\npassword_file = "/run/secret"\n'
        'table_prefix = "clinic"\n[clinic]\ntimezone = "Europe/Berlin"\n',
    )
    settings = load_settings(config_option=config, environ=environ)
    assert settings == Settings(
        database_url="mysql+pymysql://clinic@db:3306/clinic",
        password_file=Path("/run/secret"),
        table_prefix="clinic",
        timezone="Europe/Berlin",
        config_path=config,
    )


@pytest.mark.parametrize(
    ("option", "env", "in_file", "expected"),
    [
        (True, True, True, "option (--db)"),
        (False, True, True, "environment (ENCOUNTER_DATABASE_URL)"),
        (False, False, True, "file"),
        (False, False, False, "default"),
        (False, "", False, "default"),  # an empty variable counts as unset, as for the value
    ],
)
def test_the_source_of_the_url_follows_the_same_precedence(home, environ, option, env, in_file, expected):
    if env is not False:
        environ["ENCOUNTER_DATABASE_URL"] = ENV_URL if env else ""
    config = config_file(home, f'[database]\nurl = "{FILE_URL}"\n' if in_file else "")
    settings = load_settings(db_option=OPTION_URL if option else None, config_option=config, environ=environ)
    assert settings.sources["database_url"] == (f"file {config}" if expected == "file" else expected)


def test_every_setting_names_its_source(home, environ):
    xdg = write(
        home / "config" / "encounter" / "config.toml",
        '[database]\npassword_file = "pw"\ntable_prefix = "clinic"\n'
        '[clinic]\ntimezone = "Asia/Tokyo"\nhours = "mon 09:00-10:00"\n',
    )
    environ |= {"ENCOUNTER_TIMEZONE": "Europe/Berlin", "ENCOUNTER_OUTPUT": "ndjson"}
    settings = load_settings(environ=environ)
    assert (settings.timezone, settings.output) == ("Europe/Berlin", "ndjson")
    assert settings.sources == {
        "config_path": "found at the XDG path",
        "database_url": "default",
        "password_file": f"file {xdg}",
        "table_prefix": f"file {xdg}",
        "timezone": "environment (ENCOUNTER_TIMEZONE)",
        "hours": f"file {xdg}",
        "output": "environment (ENCOUNTER_OUTPUT)",
    }
    environ["ENCOUNTER_CONFIG"] = str(xdg)
    assert load_settings(environ=environ).sources["config_path"] == "environment (ENCOUNTER_CONFIG)"
    assert load_settings(config_option=xdg, environ=environ).sources["config_path"] == "option (--config)"


def test_a_relative_config_file_is_named_by_its_absolute_path(home, environ):
    local = write(Path("encounter.toml"), '[database]\ntable_prefix = "clinic"\n')
    assert load_settings(environ=environ).sources["table_prefix"] == f"file {Path.cwd() / local}"


# --- the example file and the starter file of `config init` ------------------------------------

EXAMPLE = Path(__file__).resolve().parents[2] / "config.example.toml"


def test_the_example_file_as_is_gives_exactly_the_defaults(home, environ):
    defaults = load_settings(environ=environ)
    from_example = load_settings(config_option=EXAMPLE, environ=environ)
    assert from_example == replace(defaults, config_path=EXAMPLE)
    assert from_example.sources == {**defaults.sources, "config_path": "option (--config)"}
    assert set(defaults.sources.values()) == {"default"}


def test_the_example_documents_every_key():
    text = EXAMPLE.read_text(encoding="utf-8")
    for section, keys in KNOWN_KEYS.items():
        assert f"[{section}]" in text
        for key in keys:
            assert re.search(rf"^# {key} = ", text, flags=re.MULTILINE), key


def test_the_package_template_is_the_example_file_and_is_installed():
    assert files("encounter_cli").joinpath("config_template.toml").read_bytes() == EXAMPLE.read_bytes()
    pyproject = tomllib.loads((EXAMPLE.parent / "pyproject.toml").read_text(encoding="utf-8"))
    assert "config_template.toml" in pyproject["tool"]["setuptools"]["package-data"]["encounter_cli"]


def test_the_starter_file_is_written_once(tmp_path):
    target = tmp_path / "new" / "dir" / "config.toml"
    write_starter_config(target)
    assert target.read_bytes() == EXAMPLE.read_bytes()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    target.write_text("# edited\n")
    with pytest.raises(Conflict) as caught:
        write_starter_config(target)
    assert str(target) in caught.value.message and target.read_text() == "# edited\n"


# --- config-file validation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('[database]\nuser = "root"\n', "database.user"),
        ('[database]\npassword = "hunter2"\n', "database.password"),
        ('[clinic]\ntimezone = "UTC"\nname = "Clinic"\n', "clinic.name"),
        ('[server]\nport = "80"\n', "[server]"),
        ('[Database]\nurl = "sqlite:///x"\n', "[Database]"),
        ('url = "sqlite:///x"\n', "[url]"),  # a key outside any section
    ],
)
def test_unknown_keys_and_sections_are_refused(home, environ, text, named):
    with pytest.raises(Unavailable) as caught:
        load_settings(config_option=config_file(home, text), environ=environ)
    assert named in caught.value.message
    assert caught.value.kind == "unavailable"


@pytest.mark.parametrize(
    "text",
    [
        "[database]\nurl = 5\n",
        "[clinic]\ntimezone = true\n",
        '[database]\ntable_prefix = ["a"]\n',
        "[database\nurl = 'x'\n",
        "url = \n",
    ],
)
def test_malformed_config_is_refused(home, environ, text):
    config = config_file(home, text)
    with pytest.raises(Unavailable) as caught:
        load_settings(config_option=config, environ=environ)
    assert str(config) in caught.value.message


@pytest.mark.parametrize("prefix", ["1clinic", "clinic_x", "clinic-x", "clinic x", "a" * 31, "clïnic", "`x`", "x;DROP"])
def test_bad_table_prefix_is_refused(home, environ, prefix):
    config = config_file(home, f'[database]\ntable_prefix = "{prefix}"\n')
    with pytest.raises(Unavailable) as caught:
        load_settings(config_option=config, environ=environ)
    assert "table_prefix" in caught.value.message
    assert str(config) in caught.value.hint


@pytest.mark.parametrize("prefix", ["clinic", "C", "a" * 30, "Clinic2", ""])
def test_good_table_prefix_is_kept(home, environ, prefix):
    config = config_file(home, f'[database]\ntable_prefix = "{prefix}"\n')
    assert load_settings(config_option=config, environ=environ).table_prefix == prefix


# --- password files ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606, 0o777, 0o440])
def test_password_file_readable_by_others_is_refused(tmp_path, mode):
    path = write(tmp_path / "secret", "hunter2\n", mode)
    with pytest.raises(Unavailable) as caught:
        read_password_file(path)
    message = caught.value.message
    assert "0600" in message and "0400" in message
    assert f"{mode:04o}" in message
    assert "hunter2" not in message and "hunter2" not in (caught.value.hint or "")
    assert "chmod 600" in caught.value.hint


@pytest.mark.parametrize("mode", [0o600, 0o400])
@pytest.mark.parametrize(
    ("content", "password"), [("hunter2\n", "hunter2"), ("hunter2", "hunter2"), ("p@ss wörd\r\n", "p@ss wörd")]
)
def test_private_password_file_is_read(tmp_path, mode, content, password):
    path = write(tmp_path / "secret", content, mode)
    assert read_password_file(path) == password


def test_missing_password_file_is_unavailable(tmp_path):
    with pytest.raises(Unavailable) as caught:
        read_password_file(tmp_path / "absent")
    assert "password_file" in caught.value.message


def test_relative_password_file_is_next_to_the_config_file(home, environ):
    config = config_file(home, '[database]\npassword_file = "db-password"\n')
    settings = load_settings(config_option=config, environ=environ)
    assert settings.password_file == home / "conf" / "db-password"
    assert Path.cwd() != home / "conf"


def test_absolute_password_file_is_kept(home, environ):
    config = config_file(home, f'[database]\npassword_file = "{home / "elsewhere" / "pw"}"\n')
    assert load_settings(config_option=config, environ=environ).password_file == home / "elsewhere" / "pw"


def test_password_file_fills_a_url_without_password(tmp_path):
    secret = write(tmp_path / "secret", "s3cr3t/@:\n", 0o600)
    settings = Settings("mysql+pymysql://clinic@db.example.org:3306/clinic", secret, "", "UTC", None)
    url = resolve_url(settings)
    assert url.password == "s3cr3t/@:"
    assert "s3cr3t" not in url.render_as_string(hide_password=True)


def test_password_in_url_wins_over_password_file(tmp_path):
    secret = write(tmp_path / "secret", "from-file\n", 0o644)  # not even read, so its mode does not matter
    settings = Settings("mysql+pymysql://clinic:from-url@db:3306/clinic", secret, "", "UTC", None)
    assert resolve_url(settings).password == "from-url"


def test_password_file_with_loose_mode_makes_the_database_unavailable(tmp_path):
    secret = write(tmp_path / "secret", "hunter2\n", 0o644)
    settings = Settings("mysql+pymysql://clinic@db:3306/clinic", secret, "", "UTC", None)
    with pytest.raises(Unavailable) as caught:
        resolve_url(settings)
    assert "0600" in caught.value.message
    assert "hunter2" not in caught.value.message


def test_password_file_is_ignored_for_sqlite(tmp_path):
    settings = Settings(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "absent", "", "UTC", None)
    assert resolve_url(settings).password is None


@pytest.mark.parametrize(
    ("given", "driver"), [("mysql://u@h/db", "mysql+pymysql"), ("mariadb://u@h/db", "mariadb+pymysql")]
)
def test_plain_mysql_urls_use_pymysql(given, driver):
    assert resolve_url(Settings(given, None, "", "UTC", None)).drivername == driver


@pytest.mark.parametrize("url", ["postgresql://u@h/db", "mysql:/not-a-url", "mysql://u@h:port/db", "oracle://u:p@h/db"])
def test_unsupported_or_malformed_urls_are_unavailable(url):
    with pytest.raises(Unavailable) as caught:
        resolve_url(Settings(url, None, "", "UTC", None))
    assert ":p@" not in caught.value.message


def test_environment_variables_are_read_from_environ_not_os(home, environ, monkeypatch):
    monkeypatch.setenv("ENCOUNTER_DATABASE_URL", "sqlite:////leaked.db")
    monkeypatch.setenv("ENCOUNTER_TIMEZONE", "Asia/Tokyo")
    settings = load_settings(environ=environ)
    assert settings.database_url != "sqlite:////leaked.db"
    assert settings.timezone == ""
    assert os.environ["ENCOUNTER_TIMEZONE"] == "Asia/Tokyo"


# --- config files that are not plain files, or not UTF-8 -----------------------------------------


def test_a_config_file_that_is_not_utf8_is_refused_naming_it(home, environ):
    config = home / "latin1.toml"
    config.write_bytes('[clinic]\ntimezone = "Europe/Zürich"\n'.encode("latin-1"))
    with pytest.raises(Unavailable) as caught:
        load_settings(config_option=config, environ=environ)
    assert caught.value.message == f"config file {config} is not UTF-8 text"


def test_dev_null_is_an_empty_config(home, environ):
    settings = load_settings(config_option=Path("/dev/null"), environ=environ)
    assert settings.config_path == Path("/dev/null")
    assert settings.database_url == f"sqlite:///{home / 'data' / 'encounter' / 'encounter.db'}"


def test_a_pipe_is_read_as_config(home, environ):
    """What `--config <(echo ...)` passes: a /dev/fd path to a pipe, readable once."""
    read_end, write_end = os.pipe()
    os.write(write_end, b'[clinic]\ntimezone = "Asia/Tokyo"\n')
    os.close(write_end)
    try:
        settings = load_settings(config_option=Path(f"/dev/fd/{read_end}"), environ=environ)
    finally:
        os.close(read_end)
    assert settings.timezone == "Asia/Tokyo"


def test_a_named_fifo_is_read_as_config(home, environ):
    fifo = home / "config.fifo"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=('[clinic]\ntimezone = "Asia/Tokyo"\n',))
    writer.start()
    try:
        settings = load_settings(config_option=fifo, environ=environ)
    finally:
        writer.join(timeout=5)
    assert settings.timezone == "Asia/Tokyo"


@pytest.mark.parametrize("via", ["option", "env"])
def test_a_directory_as_config_says_it_is_a_directory(home, environ, via):
    if via == "env":
        environ["ENCOUNTER_CONFIG"] = str(home)
    with pytest.raises(Unavailable) as caught:
        load_settings(config_option=home if via == "option" else None, environ=environ)
    assert caught.value.message.lower() == f"cannot read config file {home}: is a directory".lower()


@pytest.mark.parametrize("option", ["password", "passwd"])
def test_a_password_option_in_the_url_wins_over_password_file(tmp_path, option):
    secret = write(tmp_path / "secret", "from-file\n", 0o644)  # not even read, so its mode does not matter
    settings = Settings(f"mysql+pymysql://clinic@db:3306/clinic?{option}=from-url", secret, "", "UTC", None)
    url = resolve_url(settings)
    assert url.password is None and url.query[option] == "from-url"
