"""Compare the client's reply models with a server's OpenAPI document.

Rules, from the client's point of view (what it needs must exist; what it gets must parse):
- every field of a client model exists in the server's response schema, recursively;
- every JSON type the server may send for a field is one the client accepts (an integer is a
  number; null only where the client allows null);
- every enum value the server declares is one the client knows.
The server may have more fields than the client: v1 changes are additive.
"""

from __future__ import annotations

import re
from typing import Any

Json = dict[str, Any]

_PLACEHOLDER = re.compile(r"\{[^}]+\}")


def normalise_path(path: str) -> str:
    """`/students/{student_id}/grades` and `/students/{sid}/grades` compare equal."""
    return _PLACEHOLDER.sub("{}", path.rstrip("/") or "/")


def resolve(node: Json, root: Json) -> Json:
    """Follow `$ref`s (`#/...` pointers into `root`)."""
    seen = 0
    while "$ref" in node:
        target: Any = root
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
        seen += 1
        if seen > 50:
            raise ValueError("reference cycle")
    return node


def variants(node: Json, root: Json) -> list[Json]:
    """The alternatives of a schema node (anyOf/oneOf flattened), resolved."""
    node = resolve(node, root)
    for key in ("anyOf", "oneOf"):
        if key in node:
            out: list[Json] = []
            for sub in node[key]:
                out.extend(variants(sub, root))
            return out
    if "allOf" in node and len(node["allOf"]) == 1:
        return variants(node["allOf"][0], root)
    return [node]


def json_types(node: Json) -> set[str]:
    """JSON types a resolved, single-variant node allows; empty when it says nothing."""
    declared = node.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    if "properties" in node:
        return {"object"}
    if "items" in node or "prefixItems" in node:
        return {"array"}
    values = node.get("enum", [node["const"]] if "const" in node else [])
    return {_type_of(v) for v in values}


def _type_of(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def _accepts(client: set[str], server_type: str) -> bool:
    return server_type in client or (server_type == "integer" and "number" in client)


def compare(
    client: Json, client_root: Json, server: Json, server_root: Json, where: str
) -> list[str]:
    """Problems found where the server's schema could break the client's model."""
    problems: list[str] = []
    c_vars = variants(client, client_root)
    s_vars = variants(server, server_root)
    c_types = set().union(*(json_types(v) for v in c_vars))
    s_types = set().union(*(json_types(v) for v in s_vars))
    if not c_types or not s_types:
        return problems  # one side accepts anything, or says nothing checkable
    for t in sorted(s_types):
        if not _accepts(c_types, t):
            problems.append(f"{where}: server may send {t}, client accepts {sorted(c_types)}")

    c_enum = {e for v in c_vars for e in v.get("enum", [v["const"]] if "const" in v else [])}
    s_enum = {e for v in s_vars for e in v.get("enum", [v["const"]] if "const" in v else [])}
    if c_enum and s_enum and not s_enum <= c_enum:
        problems.append(f"{where}: server values {sorted(map(str, s_enum - c_enum))} unknown")

    c_obj = [v for v in c_vars if "properties" in v]
    s_obj = [v for v in s_vars if "object" in json_types(v)]
    if c_obj and s_obj:
        s_props: Json = {}
        for v in s_obj:
            s_props.update(v.get("properties", {}))
        open_ended = any(v.get("additionalProperties") not in (None, False) for v in s_obj)
        for name, sub in c_obj[0]["properties"].items():
            if name in s_props:
                problems += compare(sub, client_root, s_props[name], server_root, f"{where}.{name}")
            elif not open_ended:
                problems.append(f"{where}.{name}: missing from the server's schema")

    c_arr = [v for v in c_vars if "items" in v]
    s_arr = [v for v in s_vars if "items" in v]
    if c_arr and s_arr:
        problems += compare(
            c_arr[0]["items"], client_root, s_arr[0]["items"], server_root, f"{where}[]"
        )
    return problems


def response_schema(openapi: Json, method: str, path: str) -> Json | None:
    """The JSON schema of the 2xx reply of `method path`, or None if the route is missing."""
    wanted = normalise_path(path)
    for candidate, operations in openapi.get("paths", {}).items():
        if normalise_path(candidate) != wanted:
            continue
        operation = operations.get(method.lower())
        if operation is None:
            return None
        for status in ("200", "201"):
            reply = operation.get("responses", {}).get(status)
            if reply is not None:
                content = reply.get("content", {})
                media = content.get("application/json") or next(iter(content.values()), {})
                schema: Json = media.get("schema", {})
                return schema
        return {}
    return None
