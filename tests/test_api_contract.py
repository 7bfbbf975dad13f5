"""The API document is a contract: schemathesis drives every /api/v1 operation from
/api/v1/openapi.json, signed in as a field worker and as an anonymous resident, with a fixed
seed and a few dozen examples per operation, and runs all of its checks on every answer
(no 5xx, status codes, content types, headers and bodies as documented, invalid input refused,
valid input accepted)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation

from conftest import signed_in_client
from outreach.web import SESSION_COOKIE

# Examples per operation and mode; FUZZ_EXAMPLES=400 for a deeper run (it found the two contract
# gaps mended in December 2026: a honeypot of 0, a null app_version), about 2 minutes.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
# A body past the documented limits (more than 500 entries, more than 1 MiB) is refused with 413, as
# DESIGN.md §4 says: a rejection like schemathesis' own list of them (which leaves 413 out, so that
# a generated list of 501 entries failed the run now and then).
CONFIG = SchemathesisConfig.from_dict({"checks": {"negative_data_rejection": {"expected-statuses": [
    "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]}}})


def operations(app):
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app, config=CONFIG)
    for result in schema.get_all_operations():
        yield result.ok()


def run_operation(operation, mode, cookies: dict) -> None:
    excluded = []
    if operation.path == "/api/v1/attachments/{sha256}":
        # The name must be the sha256 of the body: no schema can say so, so a schema-valid
        # upload is (rightly) refused with 400 nearly always.
        excluded = [schemathesis.checks.positive_data_acceptance]

    @seed(20261201)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=False,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case):
        # A negative case may leave out the session cookie on purpose (is a 401 answered?): then send none.
        components = case.meta.components if case.meta else {}
        cookie = components.get(ParameterLocation.COOKIE)
        unsigned = cookie is not None and cookie.mode == schemathesis.GenerationMode.NEGATIVE
        case.call_and_validate(cookies={} if unsigned else cookies, excluded_checks=excluded)

    check()


@pytest.mark.parametrize("role", ["field", "anonymous"])
def test_every_operation_keeps_the_documented_contract(app, make_user, role):
    cookies = {}
    if role != "anonymous":
        client = signed_in_client(app, make_user(role))
        cookies = {SESSION_COOKIE: client.cookies.get(SESSION_COOKIE)}
    failures = []
    for operation in operations(app):
        if operation.method.upper() == "DELETE" and operation.path == "/api/v1/session":
            continue  # signing out would end the session the other operations use; tested on its own below
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            try:
                run_operation(operation, mode, cookies)
            except Unsatisfiable:
                pass  # nothing can be malformed in an operation without parameters or body
            except (Exception, BaseExceptionGroup) as error:  # collect them all: one report for the whole contract
                failures.append(f"{operation.method.upper()} {operation.path} [{mode.value}]: {error}"[:3000])
    assert not failures, "\n\n".join(failures)


def test_the_document_says_what_the_server_does(app, client, field_client):
    doc = client.get("/api/v1/openapi.json").json()
    reports = doc["components"]["schemas"]["ReportRequest"]["properties"]["entries"]
    assert reports["maxItems"] == 20
    # The limit as documented, and one past it.
    entry = {"id": "0b9f4f53-0c1a-4c59-9a8e-5d41a3c0a111", "kind": "report", "version": 1, "data": {}}
    # (Signed in, so that the anonymous rate limit does not count twenty reports.)
    assert field_client.post("/api/v1/reports", json={"entries": [entry] * 20}).status_code == 200
    assert field_client.post("/api/v1/reports", json={"entries": [entry] * 21}).status_code == 413
    # An empty batch is an empty answer on both paths.
    assert client.post("/api/v1/reports", json={"entries": []}).json()["results"] == []
    assert field_client.post("/api/v1/sync", json={"entries": []}).json()["results"] == []
    # Public operations need no session.
    paths = doc["paths"]
    for path, method in [("/api/v1/session", "post"), ("/api/v1/session", "delete"), ("/api/v1/openapi.json", "get"),
                         ("/api/v1/reports", "post"), ("/api/v1/reports/nearby", "get")]:
        assert paths[path][method]["security"] == [], (path, method)
    assert {"400", "415"} <= set(paths["/api/v1/session"]["post"]["responses"])
    assert "415" in paths["/api/v1/reports/{report_id}/me-too"]["post"]["responses"]


def test_a_405_names_every_method_of_the_path(client):
    r = client.put("/api/v1/session", json={})
    assert r.status_code == 405 and {"DELETE", "GET", "POST"} <= set(r.headers["allow"].split(", "))
    r = client.put("/open311/v2/requests.json")
    assert r.status_code == 405 and {"GET", "POST"} <= set(r.headers["allow"].split(", "))
