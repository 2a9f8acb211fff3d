"""Editor endpoints: page, autosave, validation, deploy outcomes, versions, diff, export."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from designer.models import Draft, ProcessDefinition, ProcessVersion
from designer.services import version_deploy

DATA = Path(__file__).resolve().parents[1] / "data"
pytestmark = pytest.mark.django_db


@pytest.fixture
def designer(client):
    client.force_login(User.objects.create(username="dana"))
    return client


@pytest.fixture
def loan() -> str:
    ProcessDefinition.objects.create(key="loan_approval", name="Loan approval")
    return (DATA / "loan_approval.bpmn").read_text()


def test_editor_page_embeds_the_draft_and_the_modeler(designer, loan):
    page = designer.get("/designer/loan_approval/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "bpmn-modeler.production.min.js" in html and 'id="draft-xml"' in html
    assert "designer/flowyard-moddle.json" in html
    assert Draft.objects.filter(definition__key="loan_approval").exists()  # starter draft created on first open
    assert designer.get("/designer/nope/").status_code == 404


def test_editor_of_a_deployed_process_without_draft_starts_from_the_latest_version(designer):
    version = version_deploy(xml=(DATA / "loan_approval.bpmn").read_text()).version
    designer.get("/designer/loan_approval/")
    assert Draft.objects.get(definition__key="loan_approval").xml == version.xml


def test_autosave_stores_the_draft_and_answers_with_findings(designer, loan):
    broken = loan.replace('decision == "approve" and not auto_reject', "decision ==")
    response = designer.post("/designer/loan_approval/draft/", {"xml": broken})
    assert response.status_code == 200
    data = response.json()
    assert Draft.objects.get().xml == broken
    assert any(f["code"] == "bpmn.E018" and f["element"] == "Flow_approved" for f in data["findings"])
    assert 'data-element="Flow_approved"' in data["problems_html"]
    fixed = designer.post("/designer/loan_approval/draft/", {"xml": loan}).json()
    assert [f for f in fixed["findings"] if f["severity"] == "error"] == []


def test_autosave_refuses_what_is_not_bpmn_and_keeps_the_stored_draft(designer, loan):
    designer.post("/designer/loan_approval/draft/", {"xml": loan})
    assert designer.post("/designer/loan_approval/draft/", {"xml": "<oops"}).status_code == 400
    assert designer.post("/designer/loan_approval/draft/", {}).status_code == 400
    assert Draft.objects.get().xml == loan


def test_draft_export_downloads_the_bpmn(designer, loan):
    designer.post("/designer/loan_approval/draft/", {"xml": loan})
    response = designer.get("/designer/loan_approval/draft/")
    assert response["Content-Disposition"] == 'attachment; filename="loan_approval.bpmn"'
    assert response.content.decode() == loan


def test_validate_renders_the_problem_list(designer, loan):
    clean = designer.post("/designer/loan_approval/validate/", {"xml": loan}).content.decode()
    assert "No problems found" in clean
    other_key = designer.post("/designer/loan_approval/validate/", {"xml": loan.replace('id="loan_approval"', 'id="other"')})
    assert "designer.E001" in other_key.content.decode()


def test_deploy_creates_a_version_then_says_identical(designer, loan):
    first = designer.post("/designer/loan_approval/deploy/", {"xml": loan})
    assert 'data-outcome="created"' in first.content.decode()
    assert json.loads(first["HX-Trigger"]) == {"flowyard:deployed": {"version": 1}}
    version = ProcessVersion.objects.get()
    assert version.number == 1 and version.deployed_by.username == "dana"
    again = designer.post("/designer/loan_approval/deploy/", {"xml": loan})
    assert 'data-outcome="identical"' in again.content.decode() and "v1" in again.content.decode()
    assert ProcessVersion.objects.count() == 1


def test_deploy_refuses_errors_and_marks_them(designer, loan):
    broken = loan.replace('decision == "approve" and not auto_reject', "decision ==")
    response = designer.post("/designer/loan_approval/deploy/", {"xml": broken})
    html = response.content.decode()
    assert 'data-outcome="errors"' in html and "Flow_approved" in html
    assert not ProcessVersion.objects.exists()
    assert Draft.objects.get().xml == broken  # the draft is kept as drawn


def test_deploy_with_warnings_asks_then_accepts(designer, loan):
    unexecutable = loan.replace('isExecutable="true"', 'isExecutable="false"')
    asked = designer.post("/designer/loan_approval/deploy/", {"xml": unexecutable}).content.decode()
    assert 'data-outcome="warnings"' in asked and "not marked executable" in asked
    assert "Deploy anyway" in asked and not ProcessVersion.objects.exists()
    accepted = designer.post("/designer/loan_approval/deploy/", {"xml": unexecutable, "accept_warnings": "1"})
    assert 'data-outcome="created"' in accepted.content.decode()
    assert ProcessVersion.objects.get().warnings[0]["code"] == "bpmn.W005"


def test_deploy_refuses_xml_of_another_process(designer, loan):
    html = designer.post("/designer/loan_approval/deploy/", {"xml": loan.replace('id="loan_approval"', 'id="other"')}).content.decode()
    assert 'data-outcome="errors"' in html
    assert not ProcessDefinition.objects.filter(key="other").exists()


def test_versions_history_view_and_export(designer, loan):
    designer.post("/designer/loan_approval/deploy/", {"xml": loan})
    history = designer.get("/designer/loan_approval/versions/").content.decode()
    assert "v1" in history and "dana" in history
    page = designer.get("/designer/loan_approval/versions/1/").content.decode()
    assert "bpmn-navigated-viewer" in page and "read-only" in page
    download = designer.get("/designer/loan_approval/versions/1/bpmn/")
    assert download.content.decode() == loan
    assert download["Content-Disposition"] == 'attachment; filename="loan_approval-v1.bpmn"'
    assert designer.get("/designer/loan_approval/versions/9/").status_code == 404


def test_diff_names_added_removed_and_changed_elements(designer, loan):
    designer.post("/designer/loan_approval/deploy/", {"xml": loan})
    changed = (loan.replace('flowyard:dueDate="P2D"', 'flowyard:dueDate="P3D"')
               .replace('name="Loan rejected"', 'name="Rejected"'))
    designer.post("/designer/loan_approval/deploy/", {"xml": changed})
    page = designer.get("/designer/loan_approval/diff/?a=1&b=2").content.decode()
    assert 'data-change="changed" data-element="Task_review"' in page and "props.due_date" in page
    assert 'data-element="EndEvent_rejected"' in page
    assert 'data-change="added"' not in page


def test_graph_diff_added_and_removed():
    from designer.graph_diff import graph_diff

    node = {"id": "a", "type": "task", "name": "A", "incoming": [], "outgoing": [], "props": {}}
    changes = graph_diff({"nodes": {"a": node}, "flows": {}}, {"nodes": {"b": {**node, "id": "b"}}, "flows": {}})
    assert [(c.id, c.change) for c in changes] == [("a", "removed"), ("b", "added")]
    moved = graph_diff({"nodes": {"a": node}}, {"nodes": {"a": {**node, "incoming": ["f"]}}})
    assert moved == []


def test_start_is_hidden_until_the_runtime_can_start_instances(designer, loan, monkeypatch):
    from designer.views import common

    monkeypatch.setattr(common, "instance_starter", lambda: None)
    designer.post("/designer/loan_approval/deploy/", {"xml": loan})
    assert "Start instance" not in designer.get("/designer/loan_approval/").content.decode()
    assert designer.post("/designer/loan_approval/start/", {"variables": "{}"}).status_code == 501


def test_start_validates_variables_and_redirects_to_the_instance(designer, loan, monkeypatch):
    from designer.views import common

    started = {}

    class Instance:
        pk = 42

    def fake_start(**kwargs):
        started.update(kwargs)
        return Instance()

    monkeypatch.setattr(common, "instance_starter", lambda: fake_start)
    designer.post("/designer/loan_approval/deploy/", {"xml": loan})
    assert "Start instance" in designer.get("/designer/loan_approval/").content.decode()
    bad = designer.post("/designer/loan_approval/start/", {"variables": "[1]"})
    assert bad.status_code == 400 and "JSON object" in bad.content.decode()
    ok = designer.post("/designer/loan_approval/start/", {"variables": '{"amount": 5}', "business_key": "L-1"})
    assert ok.status_code == 204 and ok["HX-Redirect"].endswith("/instances/42/")
    assert started["variables"] == {"amount": 5} and started["business_key"] == "L-1"
    assert started["process_key"] == "loan_approval" and started["version"] is None
    assert started["user"].username == "dana"


def test_start_runs_a_real_instance(designer, loan):
    pytest.importorskip("runtime.services")
    from runtime.models import ProcessInstance

    designer.post("/designer/loan_approval/deploy/", {"xml": loan})
    response = designer.post("/designer/loan_approval/start/", {"variables": '{"amount": 500, "income": 100}', "version": "1"})
    assert response.status_code == 204, response.content
    instance = ProcessInstance.objects.get()
    assert response["HX-Redirect"] == f"/instances/{instance.pk}/"
    assert instance.business_key == "" and instance.variables.get("amount") == 500
    refused = designer.post("/designer/loan_approval/start/", {"variables": '{"_x": 1}'})
    assert refused.status_code == 400 and "identifiers" in refused.content.decode()


def _deadlock(bpmn) -> str:
    """An exclusive split joined by a parallel gateway: no run can ever complete."""
    body = ('<bpmn:startEvent id="start"/><bpmn:exclusiveGateway id="split" default="f_split_b"/>'
            '<bpmn:task id="a"/><bpmn:task id="b"/><bpmn:parallelGateway id="join"/><bpmn:endEvent id="end"/>'
            + bpmn.flow("start", "split") + bpmn.flow("split", "a", condition="x > 1") + bpmn.flow("split", "b")
            + bpmn.flows("a", "join") + bpmn.flows("b", "join") + bpmn.flows("join", "end"))
    return bpmn.doc(body)


def test_validate_and_autosave_include_soundness_findings(designer, bpmn):
    ProcessDefinition.objects.create(key="p")
    xml = _deadlock(bpmn)
    validated = designer.post("/designer/p/validate/", {"xml": xml}).content.decode()
    assert "sound.E001" in validated and 'data-element="join"' in validated
    saved = designer.post("/designer/p/draft/", {"xml": xml}).json()
    assert any(f["code"].startswith("sound.") for f in saved["findings"])
    refused = designer.post("/designer/p/deploy/", {"xml": xml}).content.decode()
    assert 'data-outcome="errors"' in refused and "sound.E001" in refused
    assert not ProcessVersion.objects.exists()
