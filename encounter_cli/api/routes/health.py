"""/health: whether the database answers and has encounter's tables. No token needed, so a load balancer
can ask; its own threads and connections, so busy routes never hold it up."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request

from encounter_cli.api import responses
from encounter_cli.api.deps import ClinicDep

router = APIRouter(tags=["health"])


@router.get("/health", response_model=responses.Health, responses={code: responses.ERRORS[code] for code in (500, 503)})
async def health(request: Request, clinic: ClinicDep) -> dict[str, str]:
    """200 when the database answers and its tables are there, else 503."""
    await anyio.to_thread.run_sync(clinic.database.ping, limiter=request.app.state.health_threads)
    return {"status": "ok"}
