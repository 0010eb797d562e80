"""`encounter audit list`: who changed what, and when. Entries are only ever added, never edited or deleted.

encounter audit list --entity appointment --id 42 --action appointment.cancel
encounter audit list --actor alice --from yesterday -o json
"""

from __future__ import annotations

from typing import Annotated

import typer

from encounter_cli.cli import output
from encounter_cli.cli.options import WHEN_HELP, Limit, Offset, Output, OutputFormat
from encounter_cli.cli.state import state
from encounter_cli.domain import MAX_ID

app = typer.Typer(help="Read the audit trail: every change, who made it and when.", no_args_is_help=True)

AUDIT_ENTRY = output.Kind(
    "AuditEntry",
    ("occurred_at", "actor", "source", "action", "entity_id", "changes"),  # the action names the entity
    headings={"occurred_at": "when", "entity_id": "id"},
    label="Audit trail",
)
ENTITY_HELP = "patient, doctor, appointment, time_off or api_token."
ACTION_HELP = "e.g. appointment.cancel, patient.update, doctor.deactivate, patient.import."


@app.command("list")
def list_(
    ctx: typer.Context,
    entity: Annotated[str | None, typer.Option("--entity", metavar="E", help=ENTITY_HELP)] = None,
    entity_id: Annotated[
        int | None, typer.Option("--id", metavar="N", min=1, max=MAX_ID, help="The record's id.")
    ] = None,
    actor: Annotated[str | None, typer.Option("--actor", metavar="NAME", help="Who made the change.")] = None,
    action: Annotated[str | None, typer.Option("--action", metavar="A", help=ACTION_HELP)] = None,
    start_from: Annotated[str | None, typer.Option("--from", metavar="WHEN", help=WHEN_HELP)] = None,
    start_to: Annotated[str | None, typer.Option("--to", metavar="WHEN", help=f"Exclusive. {WHEN_HELP}")] = None,
    limit: Limit = None,
    offset: Offset = 0,
    fmt: Output = OutputFormat.table,
) -> None:
    """List audit entries, oldest first, as a log reads; `changes` is JSON: {"field": [old, new]}.

    Example: encounter audit list --entity appointment --id 42 --action appointment.cancel  (who cancelled it, when)
    """
    from encounter_cli.clinic_time import clinic_when
    from encounter_cli.services import audit

    zone = state(ctx).zone()
    where = audit.audit_filter(
        zone,
        entity=entity,
        entity_id=entity_id,
        actor=actor,
        action=action,
        occurred_from=clinic_when(start_from, zone, "from", date_only=True) if start_from else None,
        occurred_before=clinic_when(start_to, zone, "to", date_only=True) if start_to else None,
    )
    with state(ctx).database().session() as session:
        listing = audit.list_entries(session, where, output.page_size(fmt, limit), offset)
        output.show_listing(listing, AUDIT_ENTRY, fmt, zone, limit)
