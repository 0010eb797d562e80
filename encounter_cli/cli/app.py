"""Root of the command line: global options and wiring of the resource sub-apps only."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from typer._click import exceptions as usage

from encounter_cli import __version__
from encounter_cli.cli import api_token, appointment, audit, config, database, doctor, output, patient, schedule, serve
from encounter_cli.cli.errors import COMMAND_META_KEY, FRAMEWORK_EXCEPTIONS, CommandGroup, report, report_usage
from encounter_cli.cli.options import OUTPUT_META_KEY, OutputFormat
from encounter_cli.cli.output import printable
from encounter_cli.cli.state import AppState


class EncounterGroup(CommandGroup):
    """Maps every error raised by any command to its exit code, once, for CliRunner and the console alike."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        # Bytes that are not UTF-8 arrive as lone surrogates, which no output can print: refuse them at once.
        for arg in args:
            try:
                arg.encode("utf-8")
            except UnicodeEncodeError:
                raise typer.BadParameter(f'argument "{printable(arg)}" is not valid UTF-8 text', ctx) from None
        return super().parse_args(ctx, args)

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Usage errors (exit 2) are reported like every other error: one `error:` line, and JSON under -o json."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        arguments = sys.argv[1:] if args is None else list(args)
        try:
            with _help_without_colour_if_asked():
                status = super().main(arguments, prog_name, complete_var, standalone_mode=False, **extra)
        except usage.NoArgsIsHelpError as error:  # `encounter patient`: the help, as asked
            error.show()
            status = error.exit_code
        except usage.ClickException as error:
            status = report_usage(error, arguments)
        except typer.Abort:
            status = 1
        sys.exit(status if isinstance(status, int) else 0)

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]  # Typer always passes its own Context
        try:
            result = super().invoke(ctx)
            output.flush()  # a full disk is found here, while it can still be reported
            return result
        except FRAMEWORK_EXCEPTIONS:
            raise
        except BrokenPipeError:
            # The reader stopped early (`encounter patient list -o csv | head`): finish quietly, as shell tools do.
            _silence_stdout()
            raise typer.Exit(0) from None
        except (Exception, KeyboardInterrupt) as error:
            if isinstance(error, output.OutputFailed):
                output.explain_lost_output(error, ctx)
                _silence_stdout()  # the unwritten rest would fail again at exit, and exit 120
            state: AppState | None = ctx.obj
            json_errors = ctx.meta.get(OUTPUT_META_KEY) == OutputFormat.json
            command = ctx.meta.get(COMMAND_META_KEY)
            options = {option for param in command.params for option in param.opts} if command else set()
            status = report(error, json_errors=json_errors, debug=bool(state and state.debug), options=options)
            raise typer.Exit(int(status)) from None


@contextlib.contextmanager
def _help_without_colour_if_asked() -> Iterator[None]:
    """no-color.org: Typer's help drops colour under NO_COLOR but keeps bold and italic; no colour system drops all."""
    if not os.environ.get("NO_COLOR"):
        yield
        return
    from typer import rich_utils

    saved, rich_utils.COLOR_SYSTEM = rich_utils.COLOR_SYSTEM, None
    try:
        yield
    finally:
        rich_utils.COLOR_SYSTEM = saved


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    # Without a real file descriptor (CliRunner's buffer) there is no pipe to flush to anyway.
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


app = typer.Typer(
    cls=EncounterGroup,
    name="encounter",
    help="Clinic administration: patients, doctors and appointments.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(database.app, name="db", cls=CommandGroup)
app.add_typer(patient.app, name="patient", cls=CommandGroup)
app.add_typer(doctor.app, name="doctor", cls=CommandGroup)
app.add_typer(appointment.app, name="appointment", cls=CommandGroup)
app.add_typer(api_token.app, name="api-token", cls=CommandGroup)
app.add_typer(config.app, name="config", cls=CommandGroup)
app.add_typer(audit.app, name="audit", cls=CommandGroup)
app.command("serve")(serve.serve)
app.command("schedule")(schedule.day_schedule)


def _print_version(value: bool) -> None:
    if value:
        print(f"encounter {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    db: Annotated[
        str | None, typer.Option("--db", metavar="URL", help="Database URL (default: the SQLite file).")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", metavar="PATH", help="Config file (TOML).")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    actor: Annotated[
        str | None,
        typer.Option(
            "--actor",
            metavar="NAME",
            help="Who makes the changes, for the audit trail (default: your login).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Clinic administration: patients, doctors and appointments.

    Example: encounter patient add --first-name Ada --last-name Lovelace --email ada@example.org
    """
    ctx.obj = AppState(db_url=db, config_path=config, debug=debug, actor=actor)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    app(prog_name="encounter")
