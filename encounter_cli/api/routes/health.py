"""/health: whether the database answers and has encounter's tables. No token needed, so a load balancer
can ask; its own threads and connections, so busy routes never hold it up."""

from __future__ import annotations

from fastapi import APIRouter

from encounter_cli.api import responses
from encounter_cli.api.deps import ClinicDep

router = APIRouter(tags=["health"])


@router.get("/health", response_model=responses.Health, responses={code: responses.ERRORS[code] for code in (500, 503)})
async def health(clinic: ClinicDep) -> dict[str, str]:
    """200 when the database answers and its tables are there, else 503."""
    await clinic.in_thread(clinic.database.ping, "health")
    return {"status": "ok"}
