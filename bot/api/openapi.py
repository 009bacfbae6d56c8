"""The OpenAPI 3.1 document of /api/v1, generated from the pydantic models and the route table.

Nothing here is written by hand but the titles: the schemas come from `model_json_schema`
(JSON Schema 2020-12, which OpenAPI 3.1 uses as is), the parameters from the query and
path models' fields, the platform's own codes (categories, townships) from its TOML.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.api.routes import ROUTES, Route
from bot.api.schemas import ErrorResponse
from models.platform import PlatformConfig

REF = "#/components/schemas/{model}"
VERSION = "1.0.0"
_ERRORS = {
    "400": "A parameter is invalid (code invalid_parameter, naming it).",
    "401": "No token, an unknown one or a revoked one.",
    "403": "The token's scope does not allow this (personal=true needs read_personal).",
    "404": "No such record (or not published).",
}


def _param_schema(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent rather than null: drop the null branch and default."""
    schema = dict(prop)
    variants = schema.pop("anyOf", None)
    if variants is not None:
        kept = [v for v in variants if v.get("type") != "null"]
        schema.update(kept[0] if len(kept) == 1 else {"anyOf": kept})
    if schema.get("default", 0) is None:
        del schema["default"]
    schema.pop("title", None)
    return schema


def _parameters(
    model: type[BaseModel] | None, where: str, defs: dict[str, Any], platform: PlatformConfig
) -> list[dict[str, Any]]:
    if model is None:
        return []
    definition = defs[model.__name__]
    required = set(definition.get("required", ()))
    codes = {
        "category": [c.code for c in platform.categories],
        "township": [t.code for t in platform.townships],
    }
    found = []
    for name, prop in definition["properties"].items():
        schema = _param_schema(prop)
        description = schema.pop("description", None)
        if name in codes:
            schema = {"type": "string", "enum": codes[name]}
        parameter: dict[str, Any] = {
            "name": name,
            "in": where,
            "required": where == "path" or name in required,
            "schema": schema,
        }
        if description:
            parameter["description"] = description
        found.append(parameter)
    return found


def _operation(route: Route, defs: dict[str, Any], platform: PlatformConfig) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": route.summary,
            "content": {
                "application/json": {"schema": {"$ref": REF.format(model=route.response.__name__)}}
            },
        }
    }
    error = {"application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}}
    for status, text in _ERRORS.items():
        responses[status] = {"description": text, "content": error}
    return {
        "operationId": route.operation_id,
        "summary": route.summary,
        "description": (route.endpoint.__doc__ or "").strip(),
        "parameters": _parameters(route.path_params, "path", defs, platform)
        + _parameters(route.query, "query", defs, platform),
        "responses": responses,
    }


def document(platform: PlatformConfig, *, server: str = "/api/v1") -> dict[str, Any]:
    """The whole document."""
    models: list[type[BaseModel]] = [ErrorResponse]
    for route in ROUTES:
        models += [m for m in (route.response, route.query, route.path_params) if m is not None]
    unique = list(dict.fromkeys(models))
    _, top = models_json_schema([(m, "serialization") for m in unique], ref_template=REF)
    defs: dict[str, Any] = top.get("$defs", {})
    paths: dict[str, Any] = {
        route.path: {"get": _operation(route, defs, platform)} for route in ROUTES
    }
    paths["/openapi.json"] = {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "security": [],
            "responses": {
                "200": {
                    "description": "The OpenAPI 3.1 document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                }
            },
        }
    }
    # Query and path models are parameters, not bodies: keep components to what is returned.
    inputs = {m.__name__ for route in ROUTES for m in (route.query, route.path_params) if m}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "innobridge platform API",
            "version": VERSION,
            "description": "Read-only data of the science and technology innovation service "
            "platform, for the provincial platform and the city portal (Jiangsu art. 10, 16). "
            "Bearer tokens are issued by an admin with /apitoken in the bot.",
        },
        "servers": [{"url": server}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {name: d for name, d in defs.items() if name not in inputs},
        },
    }
