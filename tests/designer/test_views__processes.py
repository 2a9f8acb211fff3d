"""The process list: search, counts, new process (key rules) and .bpmn import."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from designer.bpmn import compile_bpmn
from designer.models import Draft, ProcessDefinition
from designer.services import draft_save, version_deploy

DATA = Path(__file__).resolve().parents[1] / "data"
pytestmark = pytest.mark.django_db


@pytest.fixture
def designer(client):
    client.force_login(User.objects.create(username="dana"))
    return client


def _upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content if content is not None else (DATA / name).read_bytes(), "application/xml")


def test_list_needs_login(client):
    assert client.get("/designer/").status_code == 302


def test_list_shows_versions_draft_state_and_search(designer):
    version_deploy(xml=(DATA / "loan_approval.bpmn").read_text())
    loan = ProcessDefinition.objects.get(key="loan_approval")
    draft_save(definition=loan, xml=(DATA / "loan_approval.bpmn").read_text().replace("Assess risk", "Assess"))
    ProcessDefinition.objects.create(key="hiring", name="Hiring")
    page = designer.get("/designer/").content.decode()
    assert "Loan approval" in page and "v1" in page and "hiring" in page
    assert "changed" in page  # the draft differs from v1
    found = designer.get("/designer/?q=hir").content.decode()
    assert "hiring" in found and "loan_approval" not in found
    rows = designer.get("/designer/?q=loan", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="process-rows")
    assert b"<html" not in rows.content and b"loan_approval" in rows.content


def test_list_counts_running_instances_and_incidents(designer):
    runtime_models = pytest.importorskip("runtime.models")
    version = version_deploy(xml=(DATA / "loan_approval.bpmn").read_text()).version
    runtime_models.ProcessInstance.objects.create(version=version)
    runtime_models.ProcessInstance.objects.create(version=version, has_incident=True, incident_count=1)
    runtime_models.ProcessInstance.objects.create(version=version, status="completed")
    page = designer.get("/designer/").content.decode()
    assert '<span class="pill info">2</span>' in page and '<span class="pill bad">1</span>' in page


def test_new_process_creates_definition_and_a_starter_draft_that_compiles(designer):
    response = designer.post("/designer/new/", {"key": "order_approval", "name": "Order <approval>"})
    assert response.status_code == 302 and response["Location"] == "/designer/order_approval/"
    definition = ProcessDefinition.objects.get(key="order_approval")
    assert definition.name == "Order <approval>"
    result = compile_bpmn(definition.draft.xml)
    assert result.process_id == "order_approval" and result.process_name == "Order <approval>"
    assert [n["type"] for n in result.graph["nodes"].values()] == ["startEvent"] if result.graph else True
    assert designer.get("/designer/order_approval/").status_code == 200


@pytest.mark.parametrize(("key", "message"), [
    ("1order", "NCName"), ("order approval", "NCName"), ("a:b", "NCName"), ("", "required"),
])
def test_new_process_key_must_be_an_ncname(designer, key, message):
    response = designer.post("/designer/new/", {"key": key, "name": "X"})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ProcessDefinition.objects.exists()


def test_new_process_key_must_be_unique(designer):
    ProcessDefinition.objects.create(key="taken")
    response = designer.post("/designer/new/", {"key": "taken", "name": "X"})
    assert response.status_code == 400 and "already exists" in response.content.decode()


def test_import_creates_the_draft_and_opens_the_editor(designer):
    response = designer.post("/designer/import/", {"file": _upload("order_fulfilment.bpmn")})
    assert response.status_code == 302 and response["Location"] == "/designer/order_fulfilment/"
    draft = Draft.objects.get(definition__key="order_fulfilment")
    assert draft.xml == (DATA / "order_fulfilment.bpmn").read_text()


@pytest.mark.parametrize(("content", "message"), [
    (b"<not-xml", "not well-formed"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>', "DOCTYPE"),
    (b"<html/>", "not BPMN 2.0"),
    (b"", "empty"),
    (b"\xff\xfe<x/>", "not"),
])
def test_import_errors_are_shown_and_nothing_is_stored(designer, content, message):
    response = designer.post("/designer/import/", {"file": _upload("broken.bpmn", content)})
    assert response.status_code == 400
    text = response.content.decode()
    assert message in text
    assert "was not imported" in text or not content  # an empty upload is refused by the form itself
    assert not ProcessDefinition.objects.exists() and not Draft.objects.exists()


def test_import_does_not_overwrite_an_existing_draft_unless_asked(designer):
    designer.post("/designer/import/", {"file": _upload("loan_approval.bpmn")})
    changed = (DATA / "loan_approval.bpmn").read_bytes().replace(b"Assess risk", b"Assess it")
    refused = designer.post("/designer/import/", {"file": _upload("loan_approval.bpmn", changed)})
    assert refused.status_code == 409 and "already has a draft" in refused.content.decode()
    assert "Assess risk" in Draft.objects.get().xml
    replaced = designer.post("/designer/import/", {"file": _upload("loan_approval.bpmn", changed), "replace": "on"})
    assert replaced.status_code == 302 and "Assess it" in Draft.objects.get().xml
