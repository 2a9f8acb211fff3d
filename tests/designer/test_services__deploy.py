"""version_deploy and `manage.py deploy`: immutable versions, identical XML, refusals."""
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from designer.models import ProcessDefinition, ProcessVersion
from designer.services import DeployError, version_deploy

DATA = Path(__file__).resolve().parents[1] / "data"
pytestmark = pytest.mark.django_db


def _loan() -> str:
    return (DATA / "loan_approval.bpmn").read_text()


def test_deploy_creates_version_one_then_identical_xml_returns_it():
    first = version_deploy(xml=_loan())
    assert first.created and first.version.number == 1
    assert first.version.definition.key == "loan_approval"
    assert first.version.compiled["format"] == 1
    again = version_deploy(xml=_loan())
    assert not again.created and again.version.pk == first.version.pk
    assert ProcessVersion.objects.count() == 1


def test_changed_xml_makes_a_new_version_and_the_old_one_stays_unchanged():
    first = version_deploy(xml=_loan()).version
    changed = _loan().replace('name="Loan approval"', 'name="Loan approval (v2)"', 1)
    assert changed != _loan()
    second = version_deploy(xml=changed).version
    assert second.number == 2
    first.refresh_from_db()
    assert first.xml == _loan()
    with pytest.raises(ValueError, match="immutable"):
        first.save()


def test_errors_refuse_the_deploy_and_store_nothing():
    broken = _loan().replace("<bpmn:startEvent", "<bpmn:intermediateThrowEvent").replace("</bpmn:startEvent>", "</bpmn:intermediateThrowEvent>")
    with pytest.raises(DeployError) as info:
        version_deploy(xml=broken)
    assert any(f.code == "bpmn.E011" for f in info.value.findings)
    assert not ProcessDefinition.objects.exists()


def test_hostile_xml_is_refused_with_a_named_problem():
    xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    with pytest.raises(DeployError) as info:
        version_deploy(xml=xxe)
    assert info.value.findings[0].code == "bpmn.E002"
    assert "root:" not in str(info.value)


def test_deploy_command_prints_key_and_version_and_fails_on_errors(tmp_path):
    out = StringIO()
    call_command("deploy", str(DATA / "loan_approval.bpmn"), str(DATA / "parallel_review.bpmn"), stdout=out)
    assert "deployed loan_approval v1" in out.getvalue()
    assert "deployed parallel_review v1" in out.getvalue()
    bad = tmp_path / "bad.bpmn"
    bad.write_text("not xml at all")
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 1"):
        call_command("deploy", str(bad), stdout=StringIO(), stderr=err)
    assert "bpmn.E001" in err.getvalue()


def test_latin1_file_deploys_and_keeps_its_characters():
    xml = _loan().replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="ISO-8859-1"?>', 1)
    assert xml.startswith('<?xml version="1.0" encoding="ISO-8859-1"?>')
    xml = xml.replace('name="Loan approval"', 'name="Prêt approuvé"', 1)
    version = version_deploy(xml=xml.encode("latin-1")).version
    assert version.definition.name == "Prêt approuvé"
    assert version.xml.encode("latin-1") == xml.encode("latin-1")


TIMER_START = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="nightly" isExecutable="true">
    <bpmn:startEvent id="s"><bpmn:outgoing>f</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:endEvent id="e"><bpmn:incoming>f</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e"/>
  </bpmn:process>
</bpmn:definitions>"""


def test_deploying_a_timer_start_schedules_it_at_commit(django_capture_on_commit_callbacks):
    from runtime.models import TimerJob

    with django_capture_on_commit_callbacks(execute=True):
        version = version_deploy(xml=TIMER_START).version
    job = TimerJob.objects.get()
    assert job.version == version and job.node_id == "s" and job.instance is None and job.state == "scheduled"
