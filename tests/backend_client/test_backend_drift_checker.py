"""The drift checker itself: it must see a missing field, a changed type, a new enum value."""

from __future__ import annotations

import copy
from typing import Any

from schema_drift import compare, normalise_path, response_schema

from backend_client import AbsencesPage, GuardianLookup


def as_openapi(schema: dict[str, Any], path: str = "/api/v1/x") -> dict[str, Any]:
    """Wrap a pydantic schema the way FastAPI publishes it: `$defs` under components."""
    schema = copy.deepcopy(schema)
    defs = schema.pop("$defs", {})

    def move(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (v.replace("#/$defs/", "#/components/schemas/") if k == "$ref" else move(v))
                for k, v in node.items()
            }
        if isinstance(node, list):
            return [move(v) for v in node]
        return node

    return {
        "paths": {
            path: {
                "get": {
                    "responses": {
                        "200": {"content": {"application/json": {"schema": move(schema)}}}
                    }
                }
            }
        },
        "components": {"schemas": move(defs)},
    }


def problems_against(server: dict[str, Any], model: type[Any]) -> list[str]:
    ours = model.model_json_schema(by_alias=True)
    schema = response_schema(server, "GET", "/api/v1/x")
    assert schema is not None
    return compare(ours, ours, schema, server, "GET /x")


def test_a_model_matches_its_own_schema() -> None:
    for model in (GuardianLookup, AbsencesPage):
        assert problems_against(as_openapi(model.model_json_schema(by_alias=True)), model) == []


def test_a_field_missing_on_the_server_is_reported() -> None:
    server = as_openapi(GuardianLookup.model_json_schema(by_alias=True))
    del server["components"]["schemas"]["Guardian"]["properties"]["preferred_lang"]
    assert problems_against(server, GuardianLookup) == [
        "GET /x.guardian.preferred_lang: missing from the server's schema"
    ]


def test_a_changed_type_is_reported() -> None:
    server = as_openapi(AbsencesPage.model_json_schema(by_alias=True))
    server["components"]["schemas"]["AbsenceTotals"]["properties"]["late_count"] = {
        "type": "string"
    }
    assert problems_against(server, AbsencesPage) == [
        "GET /x.totals.late_count: server may send string, client accepts ['integer']"
    ]


def test_a_new_enum_value_on_the_server_is_reported() -> None:
    server = as_openapi(GuardianLookup.model_json_schema(by_alias=True))
    server["components"]["schemas"]["Relation"]["enum"].append("grandmother")
    assert problems_against(server, GuardianLookup) == [
        "GET /x.students[].relation: server values ['grandmother'] unknown"
    ]


def test_integers_are_numbers_and_extra_server_fields_are_fine() -> None:
    server = as_openapi(AbsencesPage.model_json_schema(by_alias=True))
    totals = server["components"]["schemas"]["AbsenceTotals"]["properties"]
    totals["unjustified_hours"] = {"type": "integer"}
    totals["rejected_hours"] = {"type": "number"}
    assert problems_against(server, AbsencesPage) == []


def test_path_placeholders_compare_by_position() -> None:
    assert normalise_path("/students/{student_id}/grades") == normalise_path(
        "/students/{sid}/grades"
    )
