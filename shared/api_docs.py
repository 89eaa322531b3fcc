"""The API documents of every HTTP service: an OpenAPI document that lists every answer a route can give, and
the /docs (Swagger UI) and /redoc pages served from the fastapi-offline package's assets, never from a CDN.

``build_app(**kwargs)`` makes the FastAPI app with the offline pages; ``complete(app)`` makes its
``/openapi.json`` list, on every operation, the problem answers (shared/problems.py) that come from
outside the route's own code:

- 413 on every POST, PUT and PATCH (BodyLimit stops an oversized body before any route runs);
- 400 (a body that cannot be read) on every operation with a JSON body;
- 422 on every operation with parameters or a body, as a problem (not FastAPI's ``{"detail": [...]}``);
- 401 on every operation behind a security scheme, and 403 where that scheme requires scopes.

Answers that come from the route itself (404, 409, 503, 304) are declared on the route.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from pydantic.json_schema import models_json_schema

from shared import problems

BODY_METHODS = ("post", "put", "patch")


def build_app(**kwargs: Any) -> FastAPI:
    """A FastAPI app whose /docs and /redoc load their scripts and styles from this service."""
    # no validator badge: Swagger UI would send the document to its public validator service
    kwargs.setdefault("swagger_ui_parameters", {"validatorUrl": None})
    app = FastAPIOffline(static_url="/docs-assets", **kwargs)
    complete(app)
    return app


def complete(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = generate()
            _complete(document)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _complete(document: dict[str, Any]) -> None:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    needed: set[int] = set()
    for path_item in document.get("paths", {}).values():
        for method, op in path_item.items():
            statuses = _implied(method, op)
            responses = op.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(str(status), {})
            for code, answer in responses.items():
                declared = (answer.get("content") or {}).get("application/json", {}).get("schema")
                if code.isdigit() and int(code) >= 400 and (code == "422" or not declared):
                    # every error answer is a problem, except one a route describes itself (/healthz's 503)
                    answer["content"] = {problems.MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
                    if answer.get("description") in (None, "", "Validation Error"):
                        answer["description"] = problems.DESCRIPTIONS.get(int(code), problems.kind(int(code))[1])
                    needed.add(int(code))
    if needed:
        for name, schema in _problem_schemas().items():
            schemas.setdefault(name, schema)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    if not schemas:
        document["components"].pop("schemas")


def _implied(method: str, op: dict[str, Any]) -> list[int]:
    statuses = []
    if method in BODY_METHODS:
        statuses.append(413)
    if "application/json" in (op.get("requestBody") or {}).get("content", {}):
        statuses.append(400)
    if op.get("parameters") or op.get("requestBody"):
        statuses.append(422)
    for requirement in op.get("security", []):
        statuses.append(401)
        if any(requirement.values()):
            statuses.append(403)
    return statuses


def _problem_schemas() -> dict[str, Any]:
    _, defs = models_json_schema([(problems.Problem, "serialization")], ref_template="#/components/schemas/{model}")
    return defs["$defs"]
