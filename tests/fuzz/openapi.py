"""Hypothesis strategies derived from a service's own OpenAPI document (``app.openapi()``).

For each operation: requests whose path, query, header and JSON body values satisfy the schema
(``valid_requests``), and requests that break it in exactly one place (``invalid_requests``), each with the
location of the break (``("body", "observations", 2, "value")``, ``("query", "limit")``, ...).

Breaks are ones pydantic refuses in its lax mode too, so "the schema says no" means "the API must say no":
a wrong JSON type (not one pydantic converts: "5" is an integer to it, 1 a boolean), a string over its
maxLength or under its minLength or off its pattern, a number outside its bounds, too few items, a required
property missing, an unknown property where additionalProperties is false. Only the JSON Schema subset that
FastAPI emits for these services is understood; any other keyword raises, so a schema change that this
module cannot follow fails the tier instead of quietly testing less.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import timezone
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

ANNOTATIONS = {"title", "description", "default", "examples"}
UNDERSTOOD = {"$ref", "anyOf", "type", "properties", "required", "additionalProperties", "items", "minItems",
              "maxItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "enum"}
#: What an HTTP header value can carry (printable ASCII, no surrounding blanks).
HEADER_TEXT = string.ascii_letters + string.digits + string.punctuation
#: Strings pydantic's lax mode reads as a boolean, and names float() reads as a number.
LAX_BOOLEANS = {"true", "false", "yes", "no", "on", "off", "t", "f", "y", "n"}
FLOAT_NAMES = {"inf", "infinity", "nan"}

letters = st.text(alphabet=string.ascii_letters, min_size=1, max_size=12)
containers = st.one_of(st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))


@dataclass(frozen=True)
class Param:
    name: str
    location: str  # path, query or header
    schema: dict
    required: bool


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    params: tuple[Param, ...]
    body: dict | None  # the JSON request body schema

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    params: dict
    headers: dict
    body: Any = None  # a JSON value, or None for no body
    has_body: bool = False


@dataclass(frozen=True)
class Site:
    """One way to break a schema: ``kind`` (type, long, short, pattern, below, above, few, missing, extra) at
    ``path`` (property names, ``"#"`` for an array item); ``key`` is the property a "missing" break drops."""

    path: tuple
    kind: str
    key: str | None = None


def operations(document: dict, *, skip: set[str] = frozenset()) -> list[Operation]:
    """Every operation but the operational ones (health, metrics) and ``skip`` ("GET /v1/stream")."""
    found = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            if "operations" in (op.get("tags") or []) or f"{method.upper()} {path}" in skip:
                continue
            params = tuple(Param(p["name"], p["in"], p["schema"], p.get("required", False))
                           for p in op.get("parameters", []) if p["name"].lower() != "authorization")
            body = ((op.get("requestBody") or {}).get("content") or {}).get("application/json", {}).get("schema")
            found.append(Operation(method.upper(), path, params, body))
    return found


class Schemas:
    """Strategies for the schemas of one OpenAPI document.

    ``lenient`` names properties (``Component.property``) whose array items the service converts rather than
    checks (e.g. subscription filters turn every item into text): their items are not broken.
    """

    def __init__(self, document: dict, lenient: set[str] = frozenset()) -> None:
        self.components = document.get("components", {}).get("schemas", {})
        self.lenient = lenient

    def resolve(self, schema: dict) -> tuple[dict, str | None]:
        name = None
        while "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            schema = self.components[name]
        unknown = set(schema) - ANNOTATIONS - UNDERSTOOD
        if unknown:
            raise ValueError(f"JSON Schema keyword(s) {sorted(unknown)} not understood by tests/fuzz/openapi.py: {schema}")
        return schema, name

    # --- values the schema accepts ---------------------------------------------------------------------------

    def valid(self, schema: dict) -> st.SearchStrategy:
        s, _ = self.resolve(schema)
        if "anyOf" in s:
            return st.one_of(*(self.valid(branch) for branch in s["anyOf"]))
        if "enum" in s:
            return st.sampled_from(s["enum"])
        kind = s.get("type")
        if kind == "null":
            return st.none()
        if kind == "boolean":
            return st.booleans()
        if kind == "integer":
            return st.integers(min_value=s.get("minimum"), max_value=s.get("maximum"))
        if kind == "number":
            lo, hi = s.get("minimum"), s.get("maximum")
            return st.one_of(st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False),
                             st.integers(min_value=-10**6 if lo is None else int(lo), max_value=10**6 if hi is None else int(hi)))
        if kind == "string":
            return self._string(s)
        if kind == "array":
            low = s.get("minItems", 0)
            return st.lists(self.valid(s.get("items", {})), min_size=low, max_size=s.get("maxItems", max(low, 4)))
        if kind == "object":
            return self._object(s)
        if kind is None:  # no constraint at all
            return st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=10))
        raise ValueError(f"type {kind!r} not understood by tests/fuzz/openapi.py")

    def _string(self, s: dict) -> st.SearchStrategy[str]:
        low, high = s.get("minLength", 0), s.get("maxLength")
        if "pattern" in s:
            base = st.from_regex(s["pattern"], fullmatch=True)
        elif s.get("format") == "date-time":
            base = st.datetimes(timezones=st.sampled_from([timezone.utc, None])).map(lambda d: d.isoformat())
        elif "format" in s:
            raise ValueError(f"string format {s['format']!r} not understood by tests/fuzz/openapi.py")
        else:
            base = st.text(min_size=low, max_size=high if high is not None else max(low, 40))
        return base.filter(lambda v: low <= len(v) <= (high if high is not None else len(v)))

    def _object(self, s: dict) -> st.SearchStrategy[dict]:
        properties, required = s.get("properties", {}), set(s.get("required", ()))
        extra = s.get("additionalProperties", True)
        if not properties and extra not in (True, False):
            return st.dictionaries(st.text(max_size=8), self.valid(extra), max_size=3)
        return st.fixed_dictionaries({k: self.valid(v) for k, v in properties.items() if k in required},
                                     optional={k: self.valid(v) for k, v in properties.items() if k not in required})

    # --- values that break the schema in one place ---------------------------------------------------------

    def _branch(self, schema: dict) -> tuple[dict, str | None, bool]:
        """The schema's one non-null branch, the component it came from, and whether null is allowed."""
        s, name = self.resolve(schema)
        if "anyOf" not in s:
            return s, name, False
        branches = [self.resolve(b)[0] for b in s["anyOf"]]
        rest = [b for b in branches if b.get("type") != "null"]
        if len(rest) != 1:
            raise ValueError(f"only `X | None` unions are understood by tests/fuzz/openapi.py: {s}")
        return rest[0], name, len(rest) < len(branches)

    def sites(self, schema: dict, owner: str | None = None, path: tuple = ()) -> list[Site]:
        """Every place and way the schema can be broken; ``"#"`` in a path stands for an item of an array."""
        b, name, _ = self._branch(schema)
        owner = name or owner
        kind, found = b.get("type"), [Site(path, "type")]
        if kind == "string":
            found += [Site(path, k) for k, on in (("long", b.get("maxLength") is not None),
                                                  ("short", b.get("minLength", 0) > 0), ("pattern", "pattern" in b)) if on]
        if kind in ("integer", "number"):
            found += [Site(path, k) for k, on in (("below", b.get("minimum") is not None),
                                                  ("above", b.get("maximum") is not None)) if on]
        if kind == "array":
            if b.get("minItems", 0) > 0:
                found.append(Site(path, "few"))
            if owner not in self.lenient:
                found += self.sites(b.get("items", {}), owner, (*path, "#"))
        if kind == "object":
            found += [Site(path, "missing", key) for key in sorted(b.get("required", ()))]
            if b.get("additionalProperties") is False:
                found.append(Site(path, "extra"))
            for key, sub in sorted(b.get("properties", {}).items()):
                found += self.sites(sub, f"{owner}.{key}" if owner else key, (*path, key))
        return found

    def broken(self, schema: dict, site: Site, depth: int = 0) -> st.SearchStrategy[tuple[Any, tuple]]:
        """(value, where): a value valid everywhere but at ``site``; ``where`` locates the break in it."""
        b, _, nullable = self._branch(schema)
        if depth < len(site.path):
            step = site.path[depth]
            if step == "#":
                items = b.get("items", {})
                return st.tuples(st.lists(self.valid(items), max_size=3), self.broken(items, site, depth + 1),
                                 st.integers(0, 3)).map(lambda t: _insert(*t))
            return st.tuples(self.valid(b), self.broken(b["properties"][step], site, depth + 1)).map(
                lambda t: ({**t[0], step: t[1][0]}, (step, *t[1][1])))
        here: st.SearchStrategy
        if site.kind == "type":
            here = wrong_type(b.get("type"), b.get("format"), nullable)
        elif site.kind == "long":
            here = st.text(min_size=b["maxLength"] + 1, max_size=b["maxLength"] + 40)
        elif site.kind == "short":
            here = st.text(max_size=b["minLength"] - 1)
        elif site.kind == "pattern":
            here = st.text(min_size=max(b.get("minLength", 0), 1), max_size=b.get("maxLength") or 40).filter(
                lambda v: not re.fullmatch(b["pattern"], v))
        elif site.kind == "below":
            here = st.integers(max_value=int(b["minimum"]) - 1)
        elif site.kind == "above":
            here = st.integers(min_value=int(b["maximum"]) + 1)
        elif site.kind == "few":
            here = st.lists(self.valid(b.get("items", {})), max_size=b["minItems"] - 1)
        elif site.kind == "missing":
            return self.valid(b).map(lambda d: ({k: v for k, v in d.items() if k != site.key}, (site.key,)))
        elif site.kind == "extra":
            names = st.text(alphabet=string.ascii_letters + "_", min_size=1, max_size=16).filter(
                lambda k: k not in b.get("properties", {}))
            return st.tuples(self.valid(b), names, st.integers()).map(lambda t: ({**t[0], t[1]: t[2]}, (t[1],)))
        else:
            raise ValueError(f"unknown break {site}")
        return here.map(lambda v: (v, ()))

    # --- whole requests ----------------------------------------------------------------------------------------

    def param_value(self, param: Param) -> st.SearchStrategy[str]:
        """A valid value of a path, query or header parameter, as text on the wire."""
        s, _ = self.resolve(param.schema)
        if param.location == "path":  # any text at all: the odd characters are the point
            return st.text(min_size=1, max_size=60)
        if param.location == "header":
            high = max((self.resolve(b)[0].get("maxLength", 60) for b in s.get("anyOf", [s])), default=60)
            return st.text(alphabet=HEADER_TEXT, min_size=1, max_size=high)
        return self.valid(param.schema).filter(lambda v: v is not None).map(_wire)

    def param_break(self, param: Param) -> st.SearchStrategy[str] | None:
        """A value that breaks a query or header parameter's schema, as text on the wire; None if none can."""
        s, _ = self.resolve(param.schema)
        b = next((self.resolve(x)[0] for x in s.get("anyOf", [s]) if self.resolve(x)[0].get("type") != "null"), s)
        kind, options = b.get("type"), []
        if param.location == "header" and kind == "string" and b.get("maxLength") is not None:
            options.append(st.text(alphabet=HEADER_TEXT, min_size=b["maxLength"] + 1, max_size=b["maxLength"] + 60))
        if param.location == "query" and kind == "integer":
            options.append(letters.filter(lambda v: v.lower() not in FLOAT_NAMES))
            options.append(st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)).map(repr))
            if b.get("minimum") is not None:
                options.append(st.integers(max_value=int(b["minimum"]) - 1).map(str))
            if b.get("maximum") is not None:
                options.append(st.integers(min_value=int(b["maximum"]) + 1).map(str))
        return st.one_of(options) if options else None

    def valid_requests(self, op: Operation) -> st.SearchStrategy[Request]:
        return _request(self, op, None).map(lambda t: t[0])

    def invalid_requests(self, op: Operation) -> st.SearchStrategy[tuple[Request, tuple]] | None:
        """(request, where the break is): one break, its place drawn evenly from every parameter and body site;
        None when nothing in the operation's schema can be broken."""
        targets: list[Param | Site] = [p for p in op.params if self.param_break(p) is not None]
        if op.body is not None:
            targets += self.sites(op.body)
        if not targets:
            return None
        return st.sampled_from(targets).flatmap(lambda target: _request(self, op, target))


@st.composite
def _request(draw: st.DrawFn, schemas: Schemas, op: Operation, target: Param | Site | None) -> tuple[Request, tuple]:
    """A request for ``op``, valid but for ``target`` (a parameter or a body site) when one is given."""
    url, params, headers, where = op.path, {}, {}, ()
    for p in op.params:
        if p is target:
            value = draw(schemas.param_break(p))
            where = (p.location, p.name)
        elif p.location == "path" and target is not None:
            # a plain id, so that the route matches and the break elsewhere is what gets answered
            value = draw(st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=20))
        elif p.location == "path" or p.required or draw(st.booleans()):
            value = draw(schemas.param_value(p))
        else:
            continue
        if p.location == "path":
            url = url.replace("{" + p.name + "}", quote(value, safe=""))
        elif p.location == "query":
            params[p.name] = value
        else:
            headers[p.name] = value
    body = None
    if op.body is not None:
        if isinstance(target, Site):
            body, inner = draw(schemas.broken(op.body, target))
            where = ("body", *inner)
        else:
            body = draw(schemas.valid(op.body))
    return Request(op.method, url, params, headers, body, op.body is not None), where


def wrong_type(kind: str | None, fmt: str | None, nullable: bool) -> st.SearchStrategy:
    """JSON values of a type ``kind`` does not allow, that pydantic's lax mode does not convert either."""
    options = {
        "string": [st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), containers],
        "integer": [letters.filter(lambda v: v.lower() not in FLOAT_NAMES),
                    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f != int(f)), containers],
        "number": [letters.filter(lambda v: v.lower() not in FLOAT_NAMES), containers],
        "boolean": [st.integers().filter(lambda i: i not in (0, 1)), letters.filter(lambda v: v.lower() not in LAX_BOOLEANS),
                    st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f not in (0, 1)), containers],
        "array": [st.integers(), st.booleans(), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)],
        "object": [st.integers(), st.booleans(), st.text(max_size=10), st.lists(st.integers(), max_size=3)],
    }
    if kind == "string" and fmt == "date-time":  # numbers are Unix times to pydantic
        choices = [letters, st.booleans(), containers]
    elif kind in options:
        choices = options[kind]
    else:
        raise ValueError(f"type {kind!r} not understood by tests/fuzz/openapi.py")
    if not nullable:
        choices = [*choices, st.none()]
    return st.one_of(choices)


def _insert(items: list, bad: tuple[Any, tuple], at: int) -> tuple[list, tuple]:
    index = min(at, len(items))
    return [*items[:index], bad[0], *items[index:]], (index, *bad[1])


def _wire(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
