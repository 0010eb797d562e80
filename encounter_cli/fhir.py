"""FHIR R4 resources of stored records, for `-o fhir` (NDJSON: one resource per line, the Bulk Data format).

A pure mapping: a record as a dict of the ORM's values keyed by the Python field names in, resources as
plain JSON-ready dicts out. Each resource's `id` is the record's id; a doctor is two resources, a
Practitioner (the person) and a PractitionerRole (what they do here). Times are FHIR instants: seconds
and the clinic's offset (`2026-12-01T09:30:00-05:00`). Empty values are left out, as FHIR requires.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, tzinfo
from typing import Any

Resource = dict[str, Any]

# Appointment.status (FHIR value set appointmentstatus) for each stored status.
APPOINTMENT_STATUS = {"booked": "booked", "cancelled": "cancelled", "completed": "fulfilled", "no_show": "noshow"}


def resources(kind: str, item: Mapping[str, Any], zone: tzinfo) -> list[Resource]:
    """The resources of one record of `kind` ("Patient", "Doctor" or "Appointment", as `models.Models`)."""
    return MAPPINGS[kind](item, zone)


def patient(item: Mapping[str, Any], zone: tzinfo) -> list[Resource]:
    # The FHIR contact point systems are named as our fields.
    telecom = [{"system": name, "value": item[name]} for name in ("email", "phone") if _text(item[name])]
    resource = {
        "resourceType": "Patient",
        "id": str(item["id"]),
        "meta": _meta(item, zone),
        "name": [_pruned({"family": _text(item["last_name"]), "given": _listed(_text(item["first_name"]))})],
        "telecom": telecom,
        "birthDate": _date(item["date_of_birth"]),
    }
    return [_pruned(resource)]


def doctor(item: Mapping[str, Any], zone: tzinfo) -> list[Resource]:
    """A Practitioner and its PractitionerRole, with the same id. The name stays whole (`text`): a full
    name cannot be split into family and given names honestly."""
    doctor_id, name, active = str(item["id"]), _text(item["full_name"]), bool(item["is_active"])
    practitioner = {
        "resourceType": "Practitioner",
        "id": doctor_id,
        "meta": _meta(item, zone),
        "active": active,
        "name": _listed(_pruned({"text": name})),
    }
    role = {
        "resourceType": "PractitionerRole",
        "id": doctor_id,
        "meta": _meta(item, zone),
        "active": active,
        "practitioner": _reference("Practitioner", item["id"], name),
        "specialty": _listed(_pruned({"text": _text(item["specialization"])})),
    }
    return [_pruned(practitioner), _pruned(role)]


def appointment(item: Mapping[str, Any], zone: tzinfo) -> list[Resource]:
    """Both participants have accepted (the clinic books for them); a cancelled appointment keeps them."""
    cancelled = item["status"] == "cancelled"
    reason = _text(item["cancellation_reason"]) if cancelled else None
    resource = {
        "resourceType": "Appointment",
        "id": str(item["id"]),
        "meta": _meta(item, zone),
        "status": APPOINTMENT_STATUS[item["status"]],
        "cancelationReason": {"text": reason} if reason else None,  # FHIR's spelling
        "description": _text(item["reason"]),
        "start": _instant(item["start_time"], zone),
        "end": _instant(item["end_time"], zone),
        "minutesDuration": item["duration_minutes"],
        "created": _instant(item["created_at"], zone),
        "participant": [
            {"actor": _reference("Patient", item["patient_id"], _text(item.get("patient_name"))), "status": "accepted"},
            {
                "actor": _reference("Practitioner", item["doctor_id"], _text(item.get("doctor_name"))),
                "status": "accepted",
            },
        ],  # fmt: skip
    }
    return [_pruned(resource)]


MAPPINGS: dict[str, Callable[[Mapping[str, Any], tzinfo], list[Resource]]] = {
    "Patient": patient,
    "Doctor": doctor,
    "Appointment": appointment,
}


def _reference(resource_type: str, record_id: int, display: str | None) -> Resource:
    return _pruned({"reference": f"{resource_type}/{record_id}", "display": display})


def _meta(item: Mapping[str, Any], zone: tzinfo) -> Resource | None:
    updated = _instant(item.get("updated_at"), zone)
    return {"lastUpdated": updated} if updated else None


def _instant(moment: datetime | None, zone: tzinfo) -> str | None:
    """ISO 8601 in the clinic's zone, always with seconds (an instant needs them) and the offset."""
    return None if moment is None else moment.astimezone(zone).isoformat(timespec="seconds")


def _date(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _text(value: object) -> str | None:
    """A FHIR string has content: a blank (legacy) value is left out, not sent as ""."""
    return value if isinstance(value, str) and value.strip() else None


def _listed(value: Any) -> list[Any] | None:
    return [value] if value else None


def _pruned(resource: Mapping[str, Any]) -> Resource:
    """Without absent values: FHIR forbids null and empty arrays and objects."""
    return {key: value for key, value in resource.items() if value not in (None, [], {})}
