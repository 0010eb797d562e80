"""/audit: the audit trail, read only (no route edits or deletes an entry)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from encounter_cli.api import responses
from encounter_cli.api.deps import CallerDep
from encounter_cli.clinic_time import parse_instant
from encounter_cli.domain import MAX_ID
from encounter_cli.services import audit

router = APIRouter(prefix="/audit", tags=["audit"])
Instant = Query(description="RFC 3339 time with an offset, e.g. 2026-12-01T09:00:00+01:00.")


@router.get("", response_model=list[responses.AuditEntry], responses=responses.listed())
async def list_audit_entries(
    caller: CallerDep,
    entity: str | None = None,
    entity_id: Annotated[int | None, Query(alias="id", ge=1, le=MAX_ID, description="The record's id.")] = None,
    actor: str | None = None,
    action: str | None = None,
    start_from: Annotated[str | None, Query(alias="from", description=Instant.description)] = None,
    start_to: Annotated[str | None, Query(alias="to", description=f"{Instant.description} Exclusive.")] = None,
    limit: Annotated[int, responses.Limit] = responses.DEFAULT_PAGE,
    offset: Annotated[int, responses.Offset] = 0,
) -> Response:
    """Audit entries oldest first, filtered as `encounter audit list` filters them."""
    zone = caller.zone
    where = audit.audit_filter(
        zone,
        entity=entity,
        entity_id=entity_id,
        actor=actor,
        action=action,
        occurred_from=parse_instant(start_from, zone, "from") if start_from is not None else None,
        occurred_before=parse_instant(start_to, zone, "to") if start_to is not None else None,
    )
    return await caller.run(
        lambda session: responses.page(audit.list_entries(session, where, limit, offset), zone), write=False
    )
