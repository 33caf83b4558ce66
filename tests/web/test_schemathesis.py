"""Property-based runs of the API against the OpenAPI document it serves (schemathesis).

1. ``schemathesis run --checks all`` against the app on a real port, as an outside tester runs
   it: every phase (coverage: each parameter's boundaries, missing and wrong values, undeclared
   methods such as TRACE; fuzzing with valid and invalid data; stateful sequences) and every
   check (conformance of statuses, content types, headers and bodies; invalid data refused with
   a 4xx; valid data accepted; 405 with Allow; missing auth refused), with the owner's token on
   the test's event, a fixed seed and a bounded number of examples. It must find nothing.
2. A token limited to the viewer role, and no token: every operation, with ids of the real event
   and its registrations or generated ones, must answer no server error, a documented status and
   content type, a body that matches its schema, and refuse what the role may not do.
Hypothesis runs derandomized, so a failure is reproducible and a run takes the same time.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import checks

from eventreg import clock
from eventreg.domain.access import api_tokens
from eventreg.extensions import db
from eventreg.models import EventRole

from .. import factories
from ..browser.conftest import live_server  # noqa: F401  (a fixture: the app on a real port)
from ..races.edge import pass_payload
from .test_openapi import OPERATIONS as DOCUMENTED

OPERATIONS = [(method.upper(), path) for path, method, _ in DOCUMENTED]
CAPABILITY = {(method.upper(), path): op.get("x-capability") for path, method, op in DOCUMENTED}
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]
EXAMPLES = 12
INT32 = 2**31
# Found by this run before the id converter existed (issue #6: "ids of 2^31 and above" were 500s).


@pytest.fixture
def api_data(app, ctx, monkeypatch):
    """An event with a question, confirmed, checked-in and waiting people; an owner's token and
    a token of the same owner limited to the viewer role on the event."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # a crash is a 500 to look at
    event = factories.make_event(capacity=2, questions=[{"label": "目的", "kind": "single", "choices": ["a", "b"]}])
    question = event.questions[0].id
    people = [factories.register_person(event, answers={str(question): "a"}) for _ in range(3)]  # the third waits
    organizer = factories.make_staff("organizer")
    tokens = {"owner": api_tokens.create_api_token(organizer, "schemathesis", now=clock.utcnow()),
              "viewer": api_tokens.create_api_token(organizer, "viewer", now=clock.utcnow(), event=event,
                                               role=EventRole.viewer)}
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {tokens['owner']}"}
    assert client.post(f"/api/v1/events/{event.id}/checkins", json={"payload": pass_payload(people[0])},
                       headers=headers).json["result"] == "ok"
    return {"event_id": event.id, "registration_ids": [p.id for p in people], "tokens": tokens,
            "sessions": [s.id for s in event.sessions], "question_id": question}


# 422 answers a request that matches the document but that the event refuses, as the document
# says for each operation that can (invalid_input: a session or question of another event, walk-in
# values the form refuses; cp932_unmappable); so 422 joins what a valid request may get. 400 stays
# "does not match the document", which the negative checks expect.
CONFIG = """
[checks.positive_data_acceptance]
expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]

[parameters]
"path.event_id" = {event_id}
"path.registration_id" = {registration_id}
"""
ALL_CHECKS_EXAMPLES = 5  # per operation and mode; the coverage phase adds its own ~1,000 cases


def test_schemathesis_with_all_checks_finds_nothing(api_data, live_server, tmp_path):  # noqa: F811
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG.format(event_id=api_data["event_id"], registration_id=api_data["registration_ids"][0]))
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "--no-color", "run",
         f"{live_server}/api/v1/openapi.json", "--checks", "all", "--seed", "1", "--no-shrink",
         "--max-examples", str(ALL_CHECKS_EXAMPLES), "--workers", "1", "--request-timeout", "30",
         "--header", f"Authorization: Bearer {api_data['tokens']['owner']}"],
        capture_output=True, text=True, timeout=400, cwd=tmp_path)
    summary = run.stdout[-30_000:]
    assert run.returncode == 0 and "passed" in summary and "failures" not in summary, summary
    generated = int(summary.rsplit("Test cases:", 1)[1].split("generated")[0])
    assert generated > 500, summary  # every phase ran


def _allowed(who: str, capability: str | None) -> bool:
    return who == "viewer" and capability == "view"


@pytest.mark.parametrize("who", ["viewer", "none"])
@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_api_keeps_to_its_document(app, api_data, method, path, who):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {api_data['tokens'][who]}"} if who != "none" else {}
    statuses: list[int] = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is reported as is
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), registration=st.sampled_from(api_data["registration_ids"]))
    def run(case, registration):
        real_ids = len(statuses) % 2 == 0  # every other request on real data (a drawn flag can be all False)
        ids = case.path_parameters or {}
        if real_ids and ids:
            ids["event_id"] = api_data["event_id"]
            if "registration_id" in ids:
                ids["registration_id"] = registration
        for name in ("event_id", "registration_id"):  # ids past the database's integer: test_ids_past_…
            if name in ids:
                ids[name] %= INT32
        if real_ids and isinstance(case.query, dict) and "question_id" in case.query:
            case.query["question_id"] = api_data["question_id"]
        response = case.call(headers=headers)
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    capability = CAPABILITY[(method, path)]
    if path == "/api/v1/openapi.json":
        assert set(statuses) == {200}
    elif who == "none":  # refused, or (a negative id matches no route) not found in the same JSON shape
        assert 401 in statuses and set(statuses) <= {401, 404}, statuses
    elif _allowed(who, capability):  # the requests reached the handlers, and some of them real data
        assert set(statuses) - {401, 403}, statuses
        assert any(200 <= status < 300 or status in (404, 409, 422) for status in statuses), statuses
    else:  # a role without the capability: refused before anything is read, on the real event
        assert 403 in statuses and set(statuses) <= {403, 404}, statuses


ID_OPERATIONS = [(m, p) for m, p in OPERATIONS if "{event_id}" in p]


def _url(path: str, event_id, registration_id) -> str:
    return (path.replace("{event_id}", str(event_id)).replace("{registration_id}", str(registration_id))
            .replace("{which}", "attendees").replace("{fmt}", "csv"))


@pytest.mark.parametrize("big", [INT32, 2**63], ids=["2^31", "2^63"])
@pytest.mark.parametrize("method,path", ID_OPERATIONS, ids=[f"{m} {p}" for m, p in ID_OPERATIONS])
def test_ids_past_the_database_integer(app, api_data, method, path, big):
    """An id no row can have is not found (404), on both databases; never a 500."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {api_data['tokens']['owner']}"}
    response = client.open(_url(path, big, big), method=method, json={}, headers=headers)
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    if "{registration_id}" in path:
        response = client.open(_url(path, api_data["event_id"], big), method=method, json={}, headers=headers)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
