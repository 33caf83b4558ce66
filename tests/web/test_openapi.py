"""openapi.json matches the code: routes, methods, path parameters, error codes and response shapes.

The error codes are read from the source (AST) of web/api.py, and from the domain functions it
calls inside ``except DomainError``, so a new ``ApiError(…, "new_code")`` or a new
``DomainError("…")`` on a path the API reaches fails here until it is documented. Real responses
are validated by a small JSON-schema validator for the subset the document uses (type, properties,
required, additionalProperties, enum, items, nullable, allOf, $ref, maxItems, maxLength, format).
"""

from __future__ import annotations

import ast
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from werkzeug.routing import IntegerConverter

from eventreg.domain import registration as registrations
from eventreg.extensions import db
from eventreg.web import api, openapi

from .. import factories
from .conftest import csrf_token

ROOT = Path(api.__file__).resolve().parents[1]
PREFIX = "/api/v1"
SPEC = openapi.spec("http://testserver")


# --- a validator for the subset of JSON Schema (OpenAPI 3.0 flavour) the document uses ------


def resolve(ref: str) -> dict:
    assert ref.startswith("#/"), ref
    node = SPEC
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def errors_of(value, schema: dict, where: str = "$") -> list[str]:
    if "$ref" in schema:
        return errors_of(value, resolve(schema["$ref"]), where)
    if value is None:
        return [] if schema.get("nullable") else [f"{where}: null is not allowed"]
    found: list[str] = []
    for part in schema.get("allOf", []):
        found += errors_of(value, part, where)
    kind = schema.get("type")
    checks = {"object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
              "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
              "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)}
    if kind is not None and not checks[kind](value):
        return found + [f"{where}: {value!r} is not {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{where}: {value!r} not in {schema['enum']}")
    if kind == "string":
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{where}: longer than {schema['maxLength']}")
        if schema.get("format") == "date-time":
            try:
                assert datetime.fromisoformat(value).tzinfo is not None
            except (ValueError, AssertionError):
                found.append(f"{where}: {value!r} is not an aware date-time")
    if kind == "array":
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            found.append(f"{where}: more than {schema['maxItems']} items")
        for i, item in enumerate(value):
            found += errors_of(item, schema.get("items", {}), f"{where}[{i}]")
    if kind == "object":
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{where}: missing {name!r}")
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in properties:
                found += errors_of(item, properties[name], f"{where}.{name}")
            elif extra is False:
                found.append(f"{where}: unexpected {name!r}")
            elif isinstance(extra, dict):
                found += errors_of(item, extra, f"{where}.{name}")
    return found


def test_the_validator_catches_wrong_shapes():
    person = {"id": 1, "name": "a", "kana": "ア", "organization": "", "department": "", "status": "confirmed",
              "walk_in": False, "session": {"id": 1, "title": "", "when": "x"}, "checked_in_at": None,
              "checked_in_time": None, "checked_in_desk": None}
    schema = {"$ref": "#/components/schemas/ScanOutcome"}
    good = {"result": "ok", "ok": True, "message": "m", "registration": person}
    assert errors_of(good, schema) == []
    assert errors_of(dict(good, registration=None), schema) == []
    bad = [dict(good, result="maybe"), dict(good, ok="yes"), {k: v for k, v in good.items() if k != "message"},
           dict(good, extra=1), dict(good, registration=dict(person, id=True)),
           dict(good, registration=dict(person, checked_in_at="yesterday")),
           dict(good, registration=dict(person, session={"id": 1})), dict(good, registration=[person])]
    for value in bad:
        assert errors_of(value, schema), value


# --- the document itself ---------------------------------------------------------------------


def test_the_document_is_served_and_serialisable(client):
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200
    assert response.get_json() == json.loads(json.dumps(SPEC))
    assert response.get_json()["servers"] == [{"url": "http://testserver/api/v1"}]


def test_every_ref_resolves_and_every_operation_is_complete():
    text = json.dumps(SPEC)
    for ref in set(re.findall(r'"\$ref": "([^"]+)"', text)):
        resolve(ref)
    assert SPEC["openapi"].startswith("3.0.")
    assert SPEC["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": SPEC["components"]["securitySchemes"]["bearerAuth"]["description"]}
    assert "X-CSRFToken" in SPEC["info"]["description"]
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            assert operation["summary"] and operation["responses"], (path, method)
            for status, response in operation["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status) and response["description"], (path, method, status)
            if method == "post":
                assert operation["requestBody"]["content"]["application/json"]["schema"]["type"] == "object"


# --- routes ------------------------------------------------------------------------------------


def api_rules(app) -> dict[tuple[str, str], object]:
    rules = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] != "api":
            continue
        assert rule.rule.startswith(PREFIX)
        path = re.sub(r"<(?:[a-z]+:)?(\w+)>", r"{\1}", rule.rule[len(PREFIX):])
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            rules[(path, method.lower())] = rule
    return rules


def test_every_route_is_documented_and_every_documented_route_exists(app):
    in_code = api_rules(app)
    in_spec = {(path, method) for path, item in SPEC["paths"].items() for method in item}
    assert set(in_code) == in_spec


def test_path_parameters_match(app):
    for (path, method), rule in api_rules(app).items():
        operation = SPEC["paths"][path][method]
        declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
        assert set(declared) == set(rule.arguments) == set(re.findall(r"{(\w+)}", path)), path
        for name, parameter in declared.items():
            assert parameter["required"] is True
            is_int = isinstance(rule._converters[name], IntegerConverter)  # our IdConverter is one
            assert is_int == (parameter["schema"]["type"] == "integer"), (path, name)


def test_query_parameters_are_the_ones_the_views_read():
    source = Path(api.__file__).read_text("utf-8")
    read = set(re.findall(r'request\.args\.get\("(\w+)"', source))
    documented = {p["name"] for item in SPEC["paths"].values() for op in item.values()
                  for p in op.get("parameters", []) if p["in"] == "query"}
    assert read == documented


# --- error codes -------------------------------------------------------------------------------


def _module_tree(module: str) -> ast.Module:
    return ast.parse((ROOT / module).read_text("utf-8"))


def _domain_aliases(tree: ast.Module) -> dict[str, str]:
    """{"registrations": "registration", "capacity": "capacity", ...} for `from . import …`."""
    aliases = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module is None:
            for name in node.names:
                aliases[name.asname or name.name] = name.name
    return aliases


def domain_codes(module: str, function: str, seen: set | None = None) -> set[str]:
    """DomainError codes ``domain/<module>.py:function`` can raise, through the domain calls it makes."""
    seen = set() if seen is None else seen
    if (module, function) in seen:
        return set()
    seen.add((module, function))
    tree = _module_tree(f"domain/{module}.py")
    aliases = _domain_aliases(tree)
    [func] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function]
    local = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    codes = set()
    for node in ast.walk(func):
        if not isinstance(node, ast.Call):
            continue
        if isinstance(node.func, ast.Name) and node.func.id == "DomainError":
            assert isinstance(node.args[0], ast.Constant), ast.unparse(node)
            codes.add(node.args[0].value)
        elif isinstance(node.func, ast.Name) and node.func.id in local:
            codes |= domain_codes(module, node.func.id, seen)
        elif (isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
              and node.func.value.id in aliases):
            codes |= domain_codes(aliases[node.func.value.id], node.func.attr, seen)
    return codes


def api_error_codes() -> set[tuple[str, int]]:
    tree = _module_tree("web/api.py")
    found: set[tuple[str, int]] = set()
    # The ApiError inside _domain_error takes its status from DOMAIN_STATUS, read below per code.
    [helper] = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "_domain_error"]
    handled: set[int] = {id(n) for n in ast.walk(helper) if isinstance(n, ast.Call)}
    # ApiError(status, exc.code) inside `except DomainError`: the codes of the domain calls tried.
    api_aliases = {"checkin": "checkin", "passes": "passes", "staff": "staff"}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        for handler in node.handlers:
            if not (isinstance(handler.type, ast.Name) and handler.type.id == "DomainError"):
                continue
            codes = set()
            for call in (n for stmt in node.body for n in ast.walk(stmt) if isinstance(n, ast.Call)):
                if isinstance(call.func, ast.Attribute) and getattr(call.func.value, "id", None) in api_aliases:
                    codes |= domain_codes(api_aliases[call.func.value.id], call.func.attr)
            assert codes, f"line {node.lineno}: a try without domain calls?"
            calls = [n for stmt in handler.body for n in ast.walk(stmt) if isinstance(n, ast.Call)]
            assert any(getattr(c.func, "id", None) == "_domain_error" for c in calls), \
                f"line {handler.lineno}: a DomainError must reach the client through _domain_error"
            missing = codes - api.DOMAIN_STATUS.keys()
            assert not missing, f"line {handler.lineno}: no HTTP status for {missing} (a 500)"
            found |= {(code, api.DOMAIN_STATUS[code]) for code in codes}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ApiError" and id(node) not in handled:
            status, code = node.args[0], node.args[1]
            if isinstance(code, ast.Constant):
                assert isinstance(status, ast.Constant), ast.unparse(node)
                found.add((code.value, status.value))
            elif isinstance(code, ast.Call) and code.func.attr == "get":  # codes.get(exc.code, default)
                table = next(n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
                             and getattr(n.targets[0], "id", None) == code.func.value.id)
                found |= {(c.value, s.value) for s, c in zip(table.keys, table.values)}
                found.add((code.args[1].value, 400))  # any other HTTP error raised in a view: BadRequest
            else:
                raise AssertionError(f"line {node.lineno}: cannot read the code of {ast.unparse(node)}")
        # return jsonify({"error": {"code": "…"}}), status
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and len(node.value.elts) == 2:
            body, status = node.value.elts
            for d in (n for n in ast.walk(body) if isinstance(n, ast.Dict)):
                for k, v in zip(d.keys, d.values):
                    if isinstance(k, ast.Constant) and k.value == "code" and isinstance(v, ast.Constant):
                        found.add((v.value, status.value))
    return found


def test_every_error_code_the_api_can_produce_is_documented_with_its_status():
    in_code = api_error_codes()
    assert {code for code, _ in in_code} == set(openapi.ERRORS)
    for code, status in in_code:
        assert openapi.ERRORS[code][0] == status, code
    # And the generic Error schema lists them all.
    assert set(SPEC["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"]) == \
        set(openapi.ERRORS)


def test_the_code_reader_sees_the_domain_codes():
    assert domain_codes("checkin", "walk_in") >= {"session_full", "already_registered", "event_changed"}
    assert domain_codes("checkin", "undo") == {"not_found", "not_checked_in"}


def test_every_documented_error_code_has_words():
    from eventreg.web.messages import MESSAGES

    literal_messages = {"csrf_failed", "invalid_input", "method_not_allowed", "too_large"}  # given in api.py
    assert set(openapi.ERRORS) - literal_messages <= set(MESSAGES)


def test_scan_results_match_the_model():
    from eventreg.models import ScanResult

    documented = SPEC["components"]["schemas"]["ScanOutcome"]["properties"]["result"]["enum"]
    assert set(documented) == {r.value for r in ScanResult} - {"undone", "walk_in"}


# --- real responses against the document -----------------------------------------------------


def operation_for(url: str, method: str) -> dict:
    path = url.split("?")[0][len(PREFIX):]
    for template, item in SPEC["paths"].items():
        if re.fullmatch(re.sub(r"{\w+}", r"[^/]+", template), path) and method in item:
            return item[method]
    raise AssertionError(f"no operation for {method} {url}")


def check(response, url: str, method: str) -> dict:
    operation = operation_for(url, method)
    status = str(response.status_code)
    assert status in operation["responses"], f"{method.upper()} {url}: {status} is not documented"
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    body = response.get_json()
    problems = errors_of(body, schema)
    assert not problems, f"{method.upper()} {url} {status}: {problems}\n{body}"
    return body


@pytest.fixture
def data(app):
    from eventreg.domain import passes, staff

    with app.app_context():
        now = datetime.now(timezone.utc)
        event = factories.make_event(capacity=2)
        other = factories.make_event()
        user = factories.make_staff("reception", events=[event])
        person = factories.register_person(event)
        factories.register_person(event)
        waiting = factories.register_person(event)
        gone = factories.register_person(event, email="gone@example.org")
        registrations.cancel(gone, now=now)
        stranger = factories.register_person(other)
        values = SimpleNamespace(
            event=event.id, other=other.id, session=event.sessions[0].id, email=user.email,
            token=staff.create_api_token(user, "t", now=now), person=person.id,
            pass_=passes.qr_payload(person), waiting=passes.qr_payload(waiting),
            stranger=passes.qr_payload(stranger), stranger_id=stranger.id,
            person_secret=person.token, waiting_secret=waiting.token)
        db.session.commit()
        db.session.remove()
    return values


def test_real_responses_validate_against_the_document(app, client, data, login):
    auth = {"Authorization": f"Bearer {data.token}"}
    e = f"{PREFIX}/events/{data.event}"
    walk = {"session_id": data.session, "family_name": "佐藤", "given_name": "次郎", "family_kana": "サトウ",
            "given_kana": "ジロウ", "sector": "other"}
    calls = [
        # (method, url, json body, expected status, expected code or result)
        ("get", f"{e}/counts", None, 200, None),
        ("get", f"{e}/counts?session_id={data.session}", None, 200, None),
        ("get", f"{e}/search?q=やまだ&row=ya", None, 200, None),
        ("get", f"{e}/search?q=%E5%B1%B1%E7%94%B0", None, 200, None),
        ("post", f"{e}/lookup", {"payload": data.pass_}, 200, None),
        ("get", f"{e}/pass-key", None, 200, None),
        ("post", f"{e}/checkins", {"payload": data.pass_, "desk": "A"}, 200, "ok"),
        ("post", f"{e}/checkins", {"payload": data.pass_}, 200, "already_checked_in"),
        ("post", f"{e}/checkins", {"payload": data.waiting}, 200, "waitlisted"),
        ("post", f"{e}/checkins", {"payload": data.stranger}, 200, "wrong_event"),
        ("post", f"{e}/checkins", {"payload": "nonsense"}, 200, "unknown_pass"),
        ("get", f"{e}/search?q=", None, 200, None),  # with a checked-in person in the results
        ("post", f"{e}/registrations/{data.person}/undo", {}, 200, None),
        ("post", f"{e}/registrations/{data.person}/undo", {}, 409, "not_checked_in"),
        ("post", f"{e}/registrations/{data.person}/checkin", {"session_id": data.session}, 200, "ok"),
        ("post", f"{e}/registrations/{data.stranger_id}/checkin", {}, 404, "not_found"),
        ("post", f"{e}/registrations/{data.stranger_id}/undo", {}, 404, "not_found"),
        ("post", f"{e}/lookup", {"payload": data.stranger}, 404, "unknown_pass"),
        ("post", f"{e}/walk-ins", dict(walk, email="w@example.org"), 409, "session_full"),
        ("post", f"{e}/walk-ins", dict(walk, family_kana="abc"), 422, "invalid_input"),
        ("get", f"{PREFIX}/events/{data.other}/counts", None, 404, "not_found"),
        ("get", f"{e}/counts?session_id=x", None, 400, "invalid_request"),
        ("get", f"{e}/search?session_id=0", None, 400, "invalid_request"),
    ]
    for path in ("lookup", "checkins", f"registrations/{data.person}/checkin",
                 f"registrations/{data.person}/undo", "walk-ins"):
        calls += [("post", f"{e}/{path}", [], 400, "invalid_request"),
                  ("post", f"{PREFIX}/events/{data.other}/{path}", {}, 404, "not_found")]
    for method, url, body, status, expected in calls:
        response = getattr(client, method)(url, headers=auth, **({} if body is None else {"json": body}))
        assert response.status_code == status, (method, url, response.get_data(as_text=True))
        got = check(response, url, method)
        if expected:
            assert got.get("result", got.get("error", {}).get("code")) == expected, (url, got)

    # Make room: then a walk-in gets a seat (201).
    with app.app_context():
        from eventreg.domain import passes

        for token in (data.person_secret, data.waiting_secret):  # the second was promoted by the first cancellation
            registrations.cancel(passes.find_by_token(token), now=datetime.now(timezone.utc))
            db.session.commit()
        db.session.remove()
    walk_in = client.post(f"{e}/walk-ins", headers=auth, json=dict(walk, email="w@example.org"))
    assert walk_in.status_code == 201, walk_in.get_data(as_text=True)
    check(walk_in, f"{e}/walk-ins", "post")

    # Errors that come before the view: 401, 413, and csrf_failed from a desk session.
    for method, url in [("get", f"{e}/counts"), ("get", f"{e}/search"), ("get", f"{e}/pass-key"), ("post", f"{e}/lookup"),
                        ("post", f"{e}/checkins"), ("post", f"{e}/walk-ins"),
                        ("post", f"{e}/registrations/{data.person}/checkin"),
                        ("post", f"{e}/registrations/{data.person}/undo")]:
        response = getattr(client, method)(url)
        assert response.status_code == 401
        check(response, url, method)
        if method == "post":
            big = client.post(url, headers=auth, data=b"{" + b" " * 300_000 + b"}", content_type="application/json")
            assert big.status_code == 413
            check(big, url, method)
    desk = login(SimpleNamespace(email=data.email))
    csrf_token(desk, "/staff")
    for url in (f"{e}/checkins", f"{e}/walk-ins", f"{e}/registrations/{data.person}/undo"):
        response = desk.post(url, json={})
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "csrf_failed"
        check(response, url, "post")
