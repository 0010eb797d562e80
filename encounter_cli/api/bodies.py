"""Request bodies: JSON objects read strictly, then validated by the input models of `schemas`.

A body is validated here and not by FastAPI, because the clinic's today and
zone take part (birth dates, supported years) and the messages must be the
command line's. `app.py` documents each route's body from its `JsonBody`.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel
from starlette.requests import ClientDisconnect

from encounter_cli import schemas
from encounter_cli.api.deps import ClinicDep
from encounter_cli.errors import InvalidInput

M = TypeVar("M", bound=BaseModel)
SERVER_ASSIGNED = frozenset({"id"})  # as on the command line, ids are given only by an import


class _NotJson(ValueError):
    """Valid JSON syntax, but not a body we read: the message says why."""


@dataclass(frozen=True)
class JsonBody(Generic[M]):
    """A dependency: the request's JSON object, validated into `model`."""

    model: type[M]

    async def __call__(self, request: Request, clinic: ClinicDep) -> M:
        try:
            raw = await request.body()
        except ClientDisconnect:  # nobody is left to answer; no traceback in the log either
            raise InvalidInput("body", None, "was cut off: the client went away") from None
        data = json_object(raw)
        given = sorted(SERVER_ASSIGNED & data.keys())
        if given:
            raise InvalidInput(given[0], data[given[0]], "is assigned by the server")
        return schemas.parse(self.model, data, today=clinic.today(), zone=clinic.zone, strict=True)

    def openapi(self) -> dict[str, Any]:
        """The route's `requestBody`: the model's schema without the fields the server assigns."""
        schema = self.model.model_json_schema()
        for name in SERVER_ASSIGNED:
            schema.get("properties", {}).pop(name, None)
        required = "minProperties" in schema or any(field.is_required() for field in self.model.model_fields.values())
        return {"required": required, "content": {"application/json": {"schema": schema}}}


def json_object(raw: bytes) -> dict[str, Any]:
    """The body as a dict; an empty body is `{}`. Anything that is not one plain JSON object is invalid."""
    if not raw.strip():
        return {}
    try:
        text = raw.decode("utf-8")  # as RFC 8259 says: not UTF-16 or 32, no BOM (json.loads would guess)
        data = json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant, parse_float=_finite)
        json.dumps(data, ensure_ascii=False).encode()  # a lone surrogate ("\ud800") is no character
    except _NotJson as problem:
        raise InvalidInput("body", None, str(problem)) from None
    except UnicodeEncodeError:
        raise InvalidInput("body", None, 'holds a lone surrogate escape such as "\\ud800"') from None
    except (ValueError, RecursionError):  # UnicodeDecodeError included; RecursionError: nesting 1000s deep
        raise InvalidInput("body", None, "is not valid JSON") from None
    if not isinstance(data, dict):
        raise InvalidInput("body", None, "must be a JSON object")
    return data


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data = dict(pairs)
    if len(data) < len(pairs):  # json.loads would keep the last silently
        twice = next(key for key, times in Counter(key for key, _ in pairs).items() if times > 1)
        raise _NotJson(f'gives "{twice}" twice')
    return data


def _no_constant(name: str) -> Any:
    raise _NotJson(f"holds {name}, which JSON does not have")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson(f"holds the number {text[:20]}, too large for a float")
    return value
