"""Whether an answer is one the service's own OpenAPI document describes (jsonschema, draft 2020-12).

``check(document, response)`` finds the operation the request reached (by method and path template), then
asserts that the status is one of its documented responses, that the Content-Type is one the response
declares, and that a JSON body validates against the declared schema. A path or method the document does not
list has no operation: its answer must then be a problem (``application/problem+json``, the Problem schema).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
from jsonschema import Draft202012Validator

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _pattern(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$")


def operation(document: dict, method: str, path: str) -> dict | None:
    paths = document.get("paths", {})
    # literal templates first, so /v1/subscriptions is not taken for /v1/subscriptions/{sub_id}
    for template in sorted(paths, key=lambda p: p.count("{")):
        if _pattern(template).match(path):
            return paths[template].get(method.lower())
    return None


def validate(document: dict, schema: dict, value: Any) -> list[str]:
    root = {**schema, "components": document.get("components", {})}
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in Draft202012Validator(root).iter_errors(value)]


def check(document: dict, response: httpx.Response) -> None:
    request = response.request
    where = f"{request.method} {request.url.raw_path.decode()} -> {response.status_code} {response.text[:300]!r}"
    # routed as the server routes it: on the decoded path (an id of "/" is no id of one segment)
    op = operation(document, request.method, request.url.path)
    media = response.headers.get("content-type", "").split(";")[0].strip()
    if op is None:  # an unknown route or method: the framework's answer, in the one error format
        assert response.status_code in (404, 405), f"no operation in the document: {where}"
        assert media == "application/problem+json", where
        problems = validate(document, PROBLEM, response.json())
        assert not problems, f"{where}: {problems}"
        return
    documented = op.get("responses", {})
    status = str(response.status_code)
    answer = documented.get(status) or documented.get(status[0] + "XX") or documented.get("default")
    assert answer is not None, f"status {status} is not documented (documented: {sorted(documented)}): {where}"
    content = answer.get("content")
    if not content or response.status_code in (204, 304):
        assert not response.content or not content, f"an undocumented body: {where}"
        return
    assert media in content, f"Content-Type {media!r} is not documented ({sorted(content)}): {where}"
    schema = content[media].get("schema")
    if schema and media.endswith("json"):
        errors = validate(document, schema, response.json())
        assert not errors, f"the body does not match the documented schema: {errors[:3]}: {where}"
