"""POST /api/processes/deploy/, GET /api/processes/ and /api/processes/<key>/."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from designer.models import ProcessVersion
from tests.api.conftest import bpmn, errors_of, fields_of

pytestmark = pytest.mark.django_db


def upload(name="loan_approval.bpmn", text=None):
    return SimpleUploadedFile(name, (text or bpmn(name)).encode(), content_type="application/xml")


def test_deploy_a_file_then_the_same_xml_answers_200_with_that_version(users, client_for):
    client = client_for(users.deployer)
    first = client.post("/api/processes/deploy/", {"file": upload()}, format="multipart")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body == {"key": "loan_approval", "version": 1, "id": ProcessVersion.objects.get().pk, "created": True,
                    "warnings": []}
    again = client.post("/api/processes/deploy/", {"xml": bpmn("loan_approval.bpmn")}, format="json")
    assert again.status_code == 200
    assert again.json() == {**body, "created": False}
    changed = bpmn("loan_approval.bpmn").replace('name="Loan approval"', 'name="Loan approval (v2)"', 1)
    second = client.post("/api/processes/deploy/", {"xml": changed}, format="json")
    assert second.status_code == 201 and second.json()["version"] == 2


def test_deploy_findings_name_the_element(users, client_for):
    broken = bpmn("loan_approval.bpmn").replace('decision == "approve"', 'decision ==', 1)
    response = client_for(users.ops).post("/api/processes/deploy/", {"xml": broken}, format="json")
    assert response.status_code == 400
    errors = errors_of(response)
    assert any(e["element"] == "Flow_approved" and e["code"].startswith("bpmn.") and e["hint"] for e in errors), errors
    assert not ProcessVersion.objects.exists()


def test_deploy_refuses_hostile_and_malformed_bodies(users, client_for):
    client = client_for(users.deployer)
    xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    response = client.post("/api/processes/deploy/", {"xml": xxe}, format="json")
    assert response.status_code == 400 and "root:" not in response.content.decode()
    assert fields_of(client.post("/api/processes/deploy/", {}, format="json")) == {"xml"}
    assert fields_of(client.post("/api/processes/deploy/", {"xml": 5, "extra": 1}, format="json")) == {"extra"}
    assert fields_of(client.post("/api/processes/deploy/", {"xml": ["a"]}, format="json")) == {"xml"}
    assert fields_of(client.post("/api/processes/deploy/", {"accept_warnings": "x"}, format="multipart")) >= {"file"}
    bad_json = client.post("/api/processes/deploy/", '{"xml": ', content_type="application/json")
    assert bad_json.status_code == 400 and errors_of(bad_json)[0]["code"] == "parse_error"
    assert client.post("/api/processes/deploy/", "<x/>", content_type="text/plain").status_code == 415


def test_deploy_needs_staff_or_the_permission(users, client_for, anon):
    assert anon.post("/api/processes/deploy/", {"xml": "<x/>"}, format="json").status_code == 401
    response = client_for(users.alice).post("/api/processes/deploy/", {"xml": bpmn("loan_approval.bpmn")}, format="json")
    assert response.status_code == 403
    assert errors_of(response)[0]["code"] == "permission_denied"
    assert not ProcessVersion.objects.exists()
    assert client_for(users.root).post("/api/processes/deploy/", {"file": upload()}, format="multipart").status_code == 201


def test_list_and_detail_show_definitions_with_versions(users, client_for, anon, loan, quote):
    client = client_for(users.carol)
    listing = client.get("/api/processes/")
    assert listing.status_code == 200
    assert [p["key"] for p in listing.json()["results"]] == ["loan_approval", "quote_race"]
    detail = client.get("/api/processes/loan_approval/")
    assert detail.status_code == 200
    assert detail.json()["latest_version"] == 1
    assert detail.json()["versions"][0] == {"id": loan.pk, "number": 1, "checksum": loan.checksum,
                                            "deployed_at": detail.json()["versions"][0]["deployed_at"],
                                            "deployed_by": "root", "warnings": []}
    assert client.get("/api/processes/nope/").status_code == 404
    assert errors_of(client.get("/api/processes/nope/"))[0]["code"] == "not_found"
    assert anon.get("/api/processes/").status_code == 401
    assert anon.get("/api/processes/loan_approval/").status_code == 401


def test_processes_are_read_only_for_everyone_but_deploy(users, client_for, loan):
    client = client_for(users.root)
    assert client.post("/api/processes/", {}, format="json").status_code == 405
    assert client.delete("/api/processes/loan_approval/").status_code == 405
