"""Property-based run of the scanner API against the OpenAPI document it serves (schemathesis).

Every operation of /api/v1/openapi.json, with an organizer's bearer token and without one, gets
requests generated from the document: ids of the real event and its registrations (so bodies and
queries reach real data) or generated ones, and generated bodies, queries and headers. Each
answer must be no server error, have a documented status and content type, and match its schema.
Hypothesis runs derandomized, so a failure is reproducible and the run takes the same time.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import schemathesis
from schemathesis import checks

from eventreg import clock
from eventreg.domain import staff
from eventreg.extensions import db
from eventreg.web.openapi import PATHS

from .. import factories
from ..races.edge import pass_payload

OPERATIONS = [(method.upper(), path) for path, item in PATHS.items() for method in item]
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]
EXAMPLES = 12
INT32 = 2**31
# Found by this run before the id converter existed (issue #6: "ids of 2^31 and above" were 500s).

@pytest.fixture
def api_data(app, ctx, monkeypatch):
    """An event with confirmed, checked-in and waiting people, and an organizer's token."""
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # a crash is a 500 to look at
    event = factories.make_event(capacity=2)
    people = [factories.register_person(event) for _ in range(3)]  # the third one waits
    organizer = factories.make_staff("organizer")
    token = staff.create_api_token(organizer, "schemathesis", now=clock.utcnow())
    db.session.commit()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.post(f"/api/v1/events/{event.id}/checkins", json={"payload": pass_payload(people[0])},
                       headers=headers).json["result"] == "ok"
    return {"event_id": event.id, "registration_ids": [p.id for p in people], "token": token,
            "sessions": [s.id for s in event.sessions]}


@pytest.mark.parametrize("with_token", [True, False], ids=["token", "no-token"])
@pytest.mark.parametrize("method,path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_api_keeps_to_its_document(app, api_data, method, path, with_token):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {api_data['token']}"} if with_token else {}
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
        for name in ids:  # ids past the database's integer: test_ids_past_the_database_integer
            ids[name] %= INT32
        response = case.call(headers=headers)
        statuses.append(response.status_code)
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    if path == "/openapi.json":
        assert set(statuses) == {200}
    elif with_token:  # the requests reached the handlers, and some of them real data
        assert set(statuses) - {401}, statuses
        assert any(200 <= status < 300 or status in (404, 409) for status in statuses), statuses
    else:  # refused, or (a negative id matches no route) not found in the same JSON shape
        assert 401 in statuses and set(statuses) <= {401, 404}, statuses


ID_OPERATIONS = [(m, p) for m, p in OPERATIONS if "{event_id}" in p]


@pytest.mark.parametrize("big", [INT32, 2**63], ids=["2^31", "2^63"])
@pytest.mark.parametrize("method,path", ID_OPERATIONS, ids=[f"{m} {p}" for m, p in ID_OPERATIONS])
def test_ids_past_the_database_integer(app, api_data, method, path, big, request):
    """An id no row can have is not found (404), on both databases; never a 500."""
    client = app.test_client()
    url = "/api/v1" + path.replace("{event_id}", str(big)).replace("{registration_id}", str(big))
    response = client.open(url, method=method, json={}, headers={"Authorization": f"Bearer {api_data['token']}"})
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    url = "/api/v1" + path.replace("{event_id}", str(api_data["event_id"])).replace("{registration_id}", str(big))
    if url != "/api/v1" + path.replace("{event_id}", str(api_data["event_id"])):
        response = client.open(url, method=method, json={}, headers={"Authorization": f"Bearer {api_data['token']}"})
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
