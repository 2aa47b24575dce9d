"""Every API response the suite produces is checked against the OpenAPI
schema that drf-spectacular generates, so the schema cannot drift from what
the API answers again (issue 9, item 4).

The schema is generated once per session. Each response to a request under
/api/v1/ made through Django's test client (APIClient included) must have a
documented path, method and status, one of that status's documented content
types, and a body that validates against the documented schema. Objects are
closed (no field the schema does not name), so a field added to a response
without its schema fails here too.

Request bodies are not checked: many tests send invalid ones on purpose.
"""

import json
import re

import pytest
from django.test.client import Client
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

API_PREFIX = "/api/v1/"
_JSON = re.compile(r"^application/(.+\+)?json$")


class SchemaMismatch(AssertionError):
    pass


def json_schema(node):
    """An OpenAPI 3.0 schema object as JSON Schema 2020-12: `nullable` becomes
    a null alternative, boolean exclusive bounds become numbers, references
    point into the registered components, and an object that lists its
    properties admits no others unless it says so (drf-spectacular leaves
    that open)."""
    if isinstance(node, list):
        return [json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "properties":
            out[key] = {name: json_schema(sub) for name, sub in value.items()}
        elif key == "$ref":
            out[key] = value.replace("#/components/", "urn:api#/components/")
        elif key in ("enum", "default", "example", "examples", "description"):
            out[key] = value
        else:
            out[key] = json_schema(value)
    for bound in ("Minimum", "Maximum"):
        if out.get(f"exclusive{bound}") is True:
            out[f"exclusive{bound}"] = out.pop(bound.lower())
        elif out.get(f"exclusive{bound}") is False:
            del out[f"exclusive{bound}"]
    if "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.pop("nullable", False):
        out = {"anyOf": [out, {"type": "null"}]}
    return out


class Contract:
    def __init__(self, schema: dict):
        self.schema = schema
        schemas = schema.get("components", {}).get("schemas", {})
        document = {"components": {"schemas": {name: json_schema(sub) for name, sub in schemas.items()}}}
        self.registry = Registry().with_resource("urn:api", Resource(contents=document, specification=DRAFT202012))
        self.paths = [
            (re.compile("^" + "[^/]+".join(map(re.escape, re.split(r"{[^}]+}", template))) + "$"), item)
            # A literal path wins over a template it also matches
            # (reports/import/ is not reports/{id}/).
            for template, item in sorted(schema["paths"].items(), key=lambda pair: pair[0].count("{"))
        ]

    def operation(self, method: str, path: str) -> dict:
        for pattern, item in self.paths:
            if pattern.match(path):
                operation = item.get(method.lower())
                if operation is None:
                    raise SchemaMismatch(f"{method} {path}: method not documented")
                return operation
        raise SchemaMismatch(f"{method} {path}: path not documented")

    def check(self, method: str, path: str, status: int, content_type: str, body: bytes) -> None:
        where = f"{method} {path} -> {status}"
        responses = self.operation(method, path)["responses"]
        documented = responses.get(str(status)) or responses.get("default")
        if documented is None:
            raise SchemaMismatch(f"{where}: status not documented (documented: {sorted(responses)})")
        content = documented.get("content") or {}
        media_type = content_type.split(";")[0].strip().lower()
        if not content:
            if body:
                raise SchemaMismatch(f"{where}: answers a {media_type} body, the schema documents none")
            return
        if media_type not in content:
            raise SchemaMismatch(f"{where}: content type {media_type!r} not documented (documented: {sorted(content)})")
        schema = content[media_type].get("schema")
        if schema is None or not _JSON.match(media_type):
            return
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise SchemaMismatch(f"{where}: {media_type} body is not JSON: {exc}") from None
        validator = Draft202012Validator(json_schema(schema), registry=self.registry)
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        if errors:
            lines = [f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:10]]
            raise SchemaMismatch(f"{where}: body does not match the schema\n" + "\n".join(lines))

    def check_response(self, response) -> None:
        method, path = response.request["REQUEST_METHOD"], response.request["PATH_INFO"]
        if not path.startswith(API_PREFIX):
            return
        if response.streaming:
            body = b"".join(response.streaming_content)
            # Put the content back for the test to read.
            response.streaming_content = [body]
        else:
            body = response.content
        self.check(method, path, response.status_code, response.get("Content-Type", ""), body)


@pytest.fixture(scope="session")
def openapi_schema(django_db_setup, django_db_blocker) -> dict:
    from django.db import transaction
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer
    from drf_spectacular.validation import validate_schema

    from accounts.models import Party

    # The schema lists the parties' codes as the table holds them when it is
    # generated: the tests' parties (tests/conftest.py), rolled back after.
    with django_db_blocker.unblock(), transaction.atomic():
        for code, name in (("RU", "Russian Federation"), ("UA", "Ukraine")):
            Party.objects.get_or_create(code=code, defaults={"name": name})
        schema = SchemaGenerator().get_schema(request=None, public=True)
        # Through JSON, as clients get it (lazy translations become text).
        schema = json.loads(OpenApiJsonRenderer().render(schema))
        transaction.set_rollback(True)
    validate_schema(schema)
    return schema


@pytest.fixture(scope="session")
def openapi_contract(openapi_schema) -> Contract:
    return Contract(openapi_schema)


@pytest.fixture(autouse=True)
def _responses_match_the_schema(request, monkeypatch):
    """Check each API response as the test client returns it (not in tests
    marked `outside_schema`: unmatched paths, server errors and the like)."""
    if request.node.get_closest_marker("outside_schema"):
        return
    real = Client.request
    contract = None

    def checked(client, **kwargs):
        nonlocal contract
        response = real(client, **kwargs)
        if response.request["PATH_INFO"].startswith(API_PREFIX):
            contract = contract or request.getfixturevalue("openapi_contract")
            contract.check_response(response)
        return response

    monkeypatch.setattr(Client, "request", checked)
