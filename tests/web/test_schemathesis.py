"""Property-based run of the API against the OpenAPI document it serves (schemathesis).

Every operation of /api/v1/openapi.json gets requests generated from the document, with an
owner's bearer token, with a token limited to the viewer role, and without one: ids of the real
event and its registrations (so bodies and queries reach real data) or generated ones, and
generated bodies, queries and headers. Each answer must be no server error, have a documented
status and content type, and match its schema. Hypothesis runs derandomized, so a failure is
reproducible and the run takes the same time.
"""

from __future__ import annotations

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


def _allowed(who: str, capability: str | None) -> bool:
    return who == "owner" or (who == "viewer" and capability == "view")


@pytest.mark.parametrize("who", ["owner", "viewer", "none"])
@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_api_keeps_to_its_document(app, api_data, method, path, who):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {api_data['tokens'][who]}"} if who != "none" else {}
    statuses: list[int] = []

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is reported as is
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(), real_ids=st.booleans(),
           registration=st.sampled_from(api_data["registration_ids"]))
    def run(case, real_ids, registration):
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
