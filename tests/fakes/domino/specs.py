"""Checks that an HTTP exchange with the Domino simulation is what the published specs allow.

* The Domino REST API spec is OpenAPI 3.0.2: openapi-core validates request and response
  (parameters, security, status, body schema) as they are.
* The DAS spec is Swagger 2.0, which openapi-core does not read. Its schema objects are JSON
  Schema draft 4, so response bodies are validated with jsonschema against the spec's own
  ``definitions``, and the operation, its declared query parameters, status codes and headers are
  checked here. Converting the spec to OpenAPI 3 would need a converter outside Python (or code of
  our own that would then need testing itself); validating the definitions directly does not.

Deliberate departures from the letter of the specs, each because the spec contradicts itself:

* DAS ``document`` and ``viewEntry`` declare ``additionalProperties: {type: object}``, which would
  make every item value an object; the spec's own text shows them as strings and numbers (the
  ``hidden`` parameter's ``"$UpdatedBy":"CN=Admin/O=Your Org"``, the ``keys`` examples matching
  text columns). The ``@``-properties are still checked; other properties may be any JSON.
* DAS declares no error responses for authentication: it declares Basic security globally, so a
  401 (or 403 for a database the user may not open) is accepted on any operation, and a status
  the operation does declare (404) is accepted with any body (the spec gives none).
* Domino REST API ``/lists``, ``/lists/{name}``, ``/document/{unid}``, ``/scopes``: the spec
  declares no 401 for them (and ``/lists`` no 403), though they require a bearer token
  (``security: jwt``) on a scope an admin grants, and the spec's ``components/responses``
  ``401Unauthorized``/``403Forbidden`` are what its other operations answer. An undeclared 401 or
  403 is checked against that shared response's schema.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path

REFERENCE = Path("/work/shared/reference/domino")
DAS_SPEC = REFERENCE / "das-data-api-9.0.1.yaml"
REST_SPEC = REFERENCE / "domino-rest-api-openapi.basis.json"

#: DAS definitions whose ``additionalProperties`` contradict the spec's own examples
DAS_RELAXED = ("document", "viewEntry")
_CONTENT_RANGE = re.compile(r"^items (\d+)-(\d+)/(\d+)$")


@cache
def das_spec() -> dict:
    import yaml

    return yaml.safe_load(DAS_SPEC.read_text())


@cache
def rest_spec() -> dict:
    return json.loads(REST_SPEC.read_text())


@cache
def rest_openapi():
    from openapi_core import Config, OpenAPI

    # The spec is trusted as published; validating the 700 kB document itself takes seconds.
    return OpenAPI.from_dict(rest_spec(), config=Config(spec_validator_cls=None))


def _match(template: str, path: str) -> dict | None:
    t_parts, p_parts = template.strip("/").split("/"), path.strip("/").split("/")
    if len(t_parts) != len(p_parts):
        return None
    params = {}
    for t, p in zip(t_parts, p_parts, strict=True):
        if t.startswith("{") and t.endswith("}"):
            params[t[1:-1]] = p
        elif t != p:
            return None
    return params


def _das_operation(method: str, path: str) -> tuple[str, dict]:
    spec = das_spec()
    for template, ops in spec["paths"].items():
        if _match(template, path) is not None and method.lower() in ops:
            return template, ops[method.lower()]
    raise AssertionError(f"DAS: no operation {method} {path} in the spec")


def _das_params(operation: dict) -> dict[str, dict]:
    spec = das_spec()
    out = {}
    for p in operation.get("parameters", []):
        if "$ref" in p:
            p = spec["parameters"][p["$ref"].rsplit("/", 1)[1]]
        out[p["name"]] = p
    return out


@cache
def _das_definitions() -> dict:
    defs = copy.deepcopy(das_spec()["definitions"])
    for name in DAS_RELAXED:
        defs[name]["additionalProperties"] = {}
    return defs


def das_validate_body(schema: dict, body) -> None:
    import jsonschema

    jsonschema.Draft4Validator({**schema, "definitions": _das_definitions()}).validate(body)


def check_das(exchange: dict) -> None:
    """Raise AssertionError (or jsonschema's ValidationError) when a DAS exchange breaks the
    spec."""
    method, path, status = exchange["method"], exchange["path"], exchange["status"]
    template, operation = _das_operation(method, path)
    declared = _das_params(operation)
    for name, value in exchange["query"].items():
        param = declared.get(name)
        assert param is not None and param["in"] == "query", \
            f"DAS {template}: query parameter {name!r} is not in the spec"
        if param.get("type") == "integer":
            int(value)
        if param.get("type") == "boolean":
            assert value in ("true", "false"), f"{name}={value!r} is not a boolean"
        if "enum" in param:
            assert value in param["enum"]
    if status in (401, 403):
        return
    response = operation["responses"].get(str(status))
    assert response is not None, f"DAS {method} {template}: status {status} is not declared"
    if "schema" in response:
        das_validate_body(response["schema"], json.loads(exchange["body"]))
    for header in response.get("headers", {}):
        if header == "Content-Range" and exchange["query"].get("entrycount") == "false":
            assert header not in exchange["headers"]
            continue
        body = json.loads(exchange["body"])
        if header == "Content-Range" and not body:
            continue  # an empty page has no range to state
        assert header in exchange["headers"], f"DAS {template}: header {header} missing"
        if header == "Content-Range":
            m = _CONTENT_RANGE.match(exchange["headers"][header])
            assert m, f"Content-Range {exchange['headers'][header]!r} is not 'items a-b/total'"
            first, last, total = map(int, m.groups())
            assert last - first + 1 == len(body) and last < total


def check_rest(exchange: dict) -> None:
    """Raise when a Domino REST API exchange breaks the spec (request and response)."""
    from openapi_core.templating.responses.exceptions import ResponseNotFound
    from openapi_core.testing import MockRequest, MockResponse

    api = rest_openapi()
    headers = {"Authorization": "Bearer token"} if exchange["path"] != "/api/v1/auth" else {}
    request = MockRequest("http://127.0.0.1", exchange["method"].lower(), exchange["path"],
                          args=exchange["query"], headers=headers,
                          data=exchange["request_body"] or None,
                          content_type="application/json")
    api.validate_request(request)
    response = MockResponse(exchange["body"], status_code=exchange["status"],
                            headers=exchange["headers"], content_type=exchange["content_type"])
    try:
        api.validate_response(request, response)
    except Exception as err:
        status = exchange["status"]
        if status not in (401, 403) or not isinstance(err.__cause__ or err, ResponseNotFound):
            raise
        check_rest_shared(status, json.loads(exchange["body"]))


def check_rest_shared(status: int, body) -> None:
    """Validate an error body against the spec's shared 401Unauthorized/403Forbidden response."""
    from openapi_schema_validator import OAS30Validator

    spec = rest_spec()
    name = {401: "401Unauthorized", 403: "403Forbidden"}[status]
    schema = spec["components"]["responses"][name]["content"]["application/json"]
    ref = schema["schema"]["$ref"].rsplit("/", 1)[1]
    OAS30Validator({**spec["components"]["schemas"][ref], "components": spec["components"]}
                   ).validate(body)


def check_exchanges(exchanges: list[dict]) -> int:
    """Check every exchange a client had with the simulation against the spec of the interface it
    used (the Domino REST API under /api/v1, else DAS); the number checked."""
    for exchange in exchanges:
        if exchange["path"].startswith("/api/v1/"):
            check_rest(exchange)
        else:
            check_das(exchange)
    return len(exchanges)
