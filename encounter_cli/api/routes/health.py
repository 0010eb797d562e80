"""/health: whether the database answers. No token needed, so a load balancer can ask."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from sqlalchemy.orm import Session

from encounter_cli.api import responses
from encounter_cli.api.deps import ClinicDep

router = APIRouter(tags=["health"])


@router.get("/health", response_model=responses.Health, responses={503: responses.ERRORS[503]})
def health(clinic: ClinicDep) -> dict[str, str]:
    """200 when the database answers a query, else 503."""

    def ping(session: Session) -> None:
        session.execute(text("SELECT 1"))

    clinic.database.run(ping, write=False)
    return {"status": "ok"}
