"""The designer in a real browser: draw a flow from the palette, configure it in the
server-rendered panel, watch validation markers come and go, deploy, start an instance;
import a demo file and export it back with the same compiled graph."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from designer.bpmn import compile_bpmn
from designer.models import ProcessVersion
from tests.conftest import TEST_DIR

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
# Screenshots land in the test directory; UPDATE_DOCS_SCREENSHOTS=1 refreshes the committed
# ones in docs/screenshots/ instead, so an ordinary run leaves the work tree clean.
SHOTS = ROOT / "docs" / "screenshots" if os.environ.get("UPDATE_DOCS_SCREENSHOTS") else TEST_DIR / "screenshots"


# --- helpers around bpmn-js ------------------------------------------------------------

def element_ids(page, bpmn_type: str) -> list[str]:
    return page.evaluate("""(t) => flowyardModeler.get('elementRegistry')
        .filter(e => e.type === t && !e.labelTarget).map(e => e.id)""", bpmn_type)


def bo_get(page, element_id: str, prop: str):
    return page.evaluate("""([id, prop]) => {
        const e = flowyardModeler.get('elementRegistry').get(id);
        const v = e && e.businessObject.get(prop);
        return v && v.$type ? (v.id || v.body || v.$type) : (v === undefined ? null : v);
    }""", [element_id, prop])


def palette_drop(page, action: str, x: int, y: int) -> None:
    """A real mouse drag from a palette entry to canvas position (x, y) of the viewport.

    The first moves stay inside the entry, as a hand's do: Chromium fires the native
    dragstart a few pixels in, and diagram-js must see the canvas's mouseover *after* it
    to know where the shape is dropped."""
    entry = page.locator(f".djs-palette .entry[data-action='{action}']")
    box = entry.bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    for dx in (2, 4, 6, 8):
        page.mouse.move(cx + dx, cy)
    page.mouse.move(x, y, steps=12)
    page.mouse.up()


def drop_new(page, action: str, bpmn_type: str, x: int, y: int) -> str:
    before = set(element_ids(page, bpmn_type))
    palette_drop(page, action, x, y)
    page.wait_for_function("([t, n]) => flowyardModeler.get('elementRegistry').filter(e => e.type === t && !e.labelTarget).length > n",
                           arg=[bpmn_type, len(before)])
    (new,) = set(element_ids(page, bpmn_type)) - before
    # bpmn-js offers to type a label (in the same task as the drop): decline it, and go on
    # only once the text box is gone, or a click meant for the shape lands in the box
    if page.evaluate("() => flowyardModeler.get('directEditing').isActive()"):
        page.keyboard.press("Escape")
        page.wait_for_function("() => !flowyardModeler.get('directEditing').isActive()")
    return new


def replace_with(page, element_id: str, target: str) -> str:
    """Morph a task through the context pad's replace menu (real clicks); returns the new id."""
    bpmn_type = "bpmn:" + "".join(w.capitalize() for w in target.split("-"))
    before = set(element_ids(page, bpmn_type))
    page.click(f".djs-element.djs-shape[data-element-id='{element_id}']")
    page.click(".djs-context-pad .entry[data-action='replace']")
    page.click(f".djs-popup [data-id='replace-with-{target}']")
    page.wait_for_function("([t, n]) => flowyardModeler.get('elementRegistry').filter(e => e.type === t && !e.labelTarget).length > n",
                           arg=[bpmn_type, len(before)])
    (new,) = set(element_ids(page, bpmn_type)) - before
    return new


def connect(page, source: str, target: str) -> str:
    return page.evaluate("""([s, t]) => {
        const r = flowyardModeler.get('elementRegistry');
        return flowyardModeler.get('modeling').connect(r.get(s), r.get(t)).id;
    }""", [source, target])


def select(page, element_id: str, *, click: bool = True) -> None:
    if click:
        page.click(f".djs-element.djs-shape[data-element-id='{element_id}']")
    else:  # connections are thin; select them the way the problem list does
        page.evaluate("(id) => flowyardModeler.get('selection').select(flowyardModeler.get('elementRegistry').get(id))", element_id)
    page.wait_for_selector(f"#panel-form[data-element='{element_id}']")


def set_field(page, selector: str, value: str) -> None:
    field = page.locator(f"#panel-form {selector}")
    if field.evaluate("e => e.tagName") == "SELECT":
        field.select_option(value)
    else:
        field.fill(value)
        field.press("Tab")
    # the change posts the panel and swaps it in again: the next field is filled in the new one
    page.wait_for_function("() => !document.querySelector('#panel-form.htmx-request')")


def wait_saved(page) -> None:
    page.wait_for_selector("#save-state[data-state='saved']", timeout=30000)


def marked(page, cls: str = "fy-marker-error") -> list[str]:
    return page.eval_on_selector_all(f".djs-element.{cls}", "els => els.map(e => e.dataset.elementId)")


# --- the flow from the issue -------------------------------------------------------------

def test_draw_configure_validate_deploy_and_start(login, page_errors, live_server_url):
    User.objects.create_superuser("maker", "maker@example.com", "maker-pw")
    page = login("maker", "maker-pw")
    page.goto(f"{live_server_url}/designer/")
    page.click("button:has-text('New process')")
    page.fill("#id_name", "Expense claim")
    page.fill("#id_key", "expense_claim")
    page.click("button:has-text('Create and open')")
    page.wait_for_url(f"{live_server_url}/designer/expense_claim/")
    page.wait_for_selector("#fy-editor[data-ready='1']")
    page.wait_for_selector("#panel-form[data-element='expense_claim']")

    # the starter's start event goes away with the keyboard (bpmn-js bindings work)
    page.click(".djs-element.djs-shape[data-element-id='StartEvent_1']")
    page.keyboard.press("Delete")
    page.wait_for_function("() => !flowyardModeler.get('elementRegistry').get('StartEvent_1')")

    canvas = page.locator("#canvas").bounding_box()
    left, mid = canvas["x"] + 140, canvas["y"] + canvas["height"] / 2
    start = drop_new(page, "create.start-event", "bpmn:StartEvent", left, mid)
    review = replace_with(page, drop_new(page, "create.task", "bpmn:Task", left + 130, mid), "user-task")
    gateway = drop_new(page, "create.exclusive-gateway", "bpmn:ExclusiveGateway", left + 290, mid)
    approve = replace_with(page, drop_new(page, "create.task", "bpmn:Task", left + 430, mid - 110), "script-task")
    reject = replace_with(page, drop_new(page, "create.task", "bpmn:Task", left + 430, mid + 110), "script-task")
    end = drop_new(page, "create.end-event", "bpmn:EndEvent", left + 600, mid)
    connect(page, start, review)
    connect(page, review, gateway)
    to_approve = connect(page, gateway, approve)
    to_reject = connect(page, gateway, reject)
    connect(page, approve, end)
    connect(page, reject, end)

    # autosave answers with findings: the user task nobody can work on is marked
    wait_saved(page)
    page.wait_for_function("(id) => document.querySelector(`.djs-element[data-element-id='${id}']`).classList.contains('fy-marker-error')",
                           arg=review)
    assert to_approve in marked(page) or gateway in marked(page) or to_reject in marked(page)
    page.click(".fy-tabs [data-tab='problems']")
    page.wait_for_selector(f"#problems .fy-finding-link[data-element='{review}']")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "designer-validation.png"))
    page.click(f"#problems .fy-finding-link[data-element='{review}']")  # the list selects the element
    page.wait_for_selector(f"#panel-form[data-element='{review}']")
    page.click(".fy-tabs [data-tab='panel']")

    # user task: name, candidate group and one form field, all through the panel
    set_field(page, "#id_name", "Review claim")
    page.wait_for_function("(id) => flowyardModeler.get('elementRegistry').get(id).businessObject.name === 'Review claim'", arg=review)
    set_field(page, "#id_candidate_groups", "clerks")
    page.wait_for_function("(id) => flowyardModeler.get('elementRegistry').get(id).businessObject.get('flowyard:candidateGroups') === 'clerks'",
                           arg=review)
    page.click("#panel-form button[value='add:ff']")
    page.wait_for_selector("#panel-form [name='ff-0-key']")
    set_field(page, "[name='ff-0-label']", "Amount")
    set_field(page, "[name='ff-0-key']", "amount")
    set_field(page, "[name='ff-0-type']", "number")
    page.check("#panel-form [name='ff-0-required']")
    page.wait_for_function("""(id) => {
        const ext = flowyardModeler.get('elementRegistry').get(id).businessObject.extensionElements;
        const f = ext && ext.values.find(v => v.$type === 'flowyard:FormField');
        return f && f.key === 'amount' && f.type === 'number' && f.required === 'true' && f.label === 'Amount';
    }""", arg=review)
    # a bad value is refused by the server with an error next to the field, nothing written
    set_field(page, "#id_priority", "high")
    page.wait_for_selector("#panel-form [data-field='priority'].has-error")
    assert "0 to 100" in page.inner_text("#panel-form [data-field='priority'] .field-error")
    assert bo_get(page, review, "flowyard:priority") is None
    wait_saved(page)
    page.wait_for_function("(id) => !document.querySelector(`.djs-element[data-element-id='${id}']`).classList.contains('fy-marker-error')",
                           arg=review)
    page.evaluate("""() => { const panel = document.querySelector('#panel');
        const section = panel.querySelector("[data-section='assignment']");
        panel.scrollTop += section.getBoundingClientRect().top - panel.getBoundingClientRect().top - 8; }""")
    page.screenshot(path=str(SHOTS / "designer-editor.png"))
    set_field(page, "#id_priority", "60")
    page.wait_for_function("(id) => flowyardModeler.get('elementRegistry').get(id).businessObject.get('flowyard:priority') === '60'", arg=review)

    # undo/redo through bpmn-js's keyboard bindings: one panel edit is one undo step
    page.click(".djs-element.djs-shape[data-element-id='%s']" % review)
    page.keyboard.press("Control+z")
    page.wait_for_function("(id) => flowyardModeler.get('elementRegistry').get(id).businessObject.get('flowyard:priority') === undefined", arg=review)
    assert bo_get(page, review, "flowyard:candidateGroups") == "clerks"
    page.keyboard.press("Control+y")
    page.wait_for_function("(id) => flowyardModeler.get('elementRegistry').get(id).businessObject.get('flowyard:priority') === '60'", arg=review)

    # scripts, a condition and a default flow
    select(page, approve)
    set_field(page, "#id_script", "approved = True\nlimit = amount * 2")
    page.wait_for_function("(id) => (flowyardModeler.get('elementRegistry').get(id).businessObject.script || '').includes('limit')", arg=approve)
    select(page, reject)
    set_field(page, "#id_script", "approved = False")
    page.wait_for_function("(id) => flowyardModeler.get('elementRegistry').get(id).businessObject.script === 'approved = False'", arg=reject)
    select(page, to_approve, click=False)
    set_field(page, "#id_condition", "amount <= 1000")
    page.wait_for_function("(id) => { const c = flowyardModeler.get('elementRegistry').get(id).businessObject.conditionExpression; return c && c.body === 'amount <= 1000'; }",
                           arg=to_approve)
    select(page, gateway)
    set_field(page, "#id_default_flow", to_reject)
    page.wait_for_function("([g, f]) => { const d = flowyardModeler.get('elementRegistry').get(g).businessObject.default; return d && d.id === f; }",
                           arg=[gateway, to_reject])

    # fixed: the markers disappear after the next autosave
    wait_saved(page)
    page.wait_for_function("() => document.querySelectorAll('.djs-element.fy-marker-error').length === 0")
    assert page.inner_text("#problem-count") == ""

    # deploy
    page.click("#btn-deploy")
    page.wait_for_selector("#deploy-result [data-outcome='created']")
    version = ProcessVersion.objects.get(definition__key="expense_claim")
    graph = version.compiled
    assert graph["nodes"][review]["props"]["candidate_groups"] == "clerks"
    assert graph["nodes"][review]["props"]["form"][0]["key"] == "amount"
    assert graph["nodes"][review]["props"]["priority"] == "60"
    assert graph["flows"][to_approve]["condition"] == "amount <= 1000"
    assert graph["flows"][to_reject]["is_default"] and graph["nodes"][gateway]["default_flow"] == to_reject
    assert [line["name"] for line in graph["nodes"][approve]["props"]["script"]] == ["approved", "limit"]
    page.click("#deploy-dialog button[data-close-dialog]")
    page.click(".fy-tabs [data-tab='versions']")
    page.wait_for_selector("#versions a:has-text('v1')")
    page.click("#btn-deploy")
    page.wait_for_selector("#deploy-result [data-outcome='identical']")
    page.click("#deploy-dialog button[data-close-dialog]")

    # start an instance and land on its page
    page.reload()
    page.wait_for_selector("#fy-editor[data-ready='1']")
    page.click("#btn-start")
    page.fill("#start-variables", json.dumps({"amount": 250}))
    page.fill("#start-business-key", "claim-1")
    page.click("#start-dialog button[type=submit]")
    page.wait_for_url(re.compile(rf"{live_server_url}/instances/\d+/"))
    from runtime.models import ProcessInstance

    instance = ProcessInstance.objects.get(business_key="claim-1")
    assert page.url.endswith(f"/instances/{instance.pk}/")
    assert instance.version_id == version.pk
    assert page_errors == [], page_errors


# --- import, export and the moddle extension round trip -------------------------------------

def _graph(xml: str) -> dict:
    result = compile_bpmn(xml)
    assert result.graph is not None, [str(f) for f in result.findings]
    return result.graph


def test_import_a_demo_file_and_export_it_back(login, page_errors, live_server_url, tmp_path):
    User.objects.create_user("ivy", password="ivy-pw-123")
    page = login("ivy", "ivy-pw-123")
    page.goto(f"{live_server_url}/designer/")
    page.click("button:has-text('Import .bpmn')")
    page.set_input_files("#import-dialog input[type=file]", str(DATA / "order_fulfilment.bpmn"))
    page.click("#import-dialog button[type=submit]")
    page.wait_for_url(f"{live_server_url}/designer/order_fulfilment/")
    page.wait_for_selector("#fy-editor[data-ready='1']")
    page.wait_for_selector("#problems .fy-problems", state="attached")

    # touch the diagram so the export is bpmn-js's own serialisation, not the stored text
    select(page, "Task_confirm")
    set_field(page, "#id_name", "Confirm the order")
    page.wait_for_function("() => flowyardModeler.get('elementRegistry').get('Task_confirm').businessObject.name === 'Confirm the order'")
    page.click(".fy-menu summary")
    with page.expect_download() as download:
        page.click("#btn-export-bpmn")
    exported = Path(download.value.path()).read_text()
    assert download.value.suggested_filename == "order_fulfilment.bpmn"
    assert "<flowyard:http " in exported and "<flowyard:input " in exported
    original = _graph((DATA / "order_fulfilment.bpmn").read_text())
    original["nodes"]["Task_confirm"]["name"] = "Confirm the order"
    assert _graph(exported) == original

    page.click(".fy-menu summary")
    with page.expect_download() as svg_download:
        page.click("#btn-export-svg")
    assert "<svg" in Path(svg_download.value.path()).read_text()[:500]
    assert svg_download.value.suggested_filename == "order_fulfilment.svg"
    wait_saved(page)
    assert page_errors == [], page_errors


def test_every_demo_file_round_trips_through_the_modeler(login, page_errors, live_server_url):
    """importXML + saveXML of bpmn-js with our moddle descriptor keeps every flowyard
    attribute and child: the compiled graphs before and after are equal."""
    User.objects.create_user("rita", password="rita-pw-123")
    page = login("rita", "rita-pw-123")
    page.goto(f"{live_server_url}/designer/")
    page.click("button:has-text('New process')")
    page.fill("#id_name", "Scratch")
    page.fill("#id_key", "scratch")
    page.click("button:has-text('Create and open')")
    page.wait_for_selector("#fy-editor[data-ready='1']")
    for path in sorted(DATA.glob("*.bpmn")):
        xml = path.read_text()
        saved = page.evaluate("""async (xml) => {
            const viewer = new BpmnJS({ moddleExtensions: { flowyard: await (await fetch(JSON.parse(
                document.getElementById('fy-editor').dataset.urls).descriptor)).json() } });
            const { warnings } = await viewer.importXML(xml);
            if (warnings.length) return 'WARN ' + warnings.map(w => w.message).join('; ');
            return (await viewer.saveXML({ format: true })).xml;
        }""", xml)
        assert not saved.startswith("WARN"), (path.name, saved)
        assert _graph(saved) == _graph(xml), path.name
    assert page_errors == [], page_errors


def test_list_screenshot_and_search(login, page_errors, live_server_url):
    from designer.services import version_deploy

    User.objects.create_user("lena", password="lena-pw-123")
    for name in ("loan_approval.bpmn", "order_fulfilment.bpmn", "parallel_review.bpmn"):
        version_deploy(xml=(DATA / name).read_text())
    page = login("lena", "lena-pw-123")
    page.goto(f"{live_server_url}/designer/")
    page.wait_for_selector("#process-table")
    page.set_viewport_size({"width": 1280, "height": 520})
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "designer-list.png"))
    page.fill("input[type=search]", "loan")
    page.wait_for_function("() => document.querySelectorAll('#process-table tbody tr').length === 1")
    assert "loan_approval" in page.inner_text("#process-table")
    assert page_errors == [], page_errors


def test_panel_writes_timers_messages_connectors_mappings_and_multi_instance(login, page_errors, live_server_url):
    """Every kind of patch patch.js knows, written through the panel and read back by the
    compiler from bpmn-js's own XML."""
    from designer.models import ProcessDefinition
    from designer.services import draft_save

    for name in ("quote_race", "order_fulfilment"):
        definition = ProcessDefinition.objects.create(key=name, name=name)
        draft_save(definition=definition, xml=(DATA / f"{name}.bpmn").read_text())
    User.objects.create_user("pat", password="pat-pw-123")
    page = login("pat", "pat-pw-123")

    page.goto(f"{live_server_url}/designer/quote_race/")
    page.wait_for_selector("#fy-editor[data-ready='1']")
    select(page, "Event_timeout")
    set_field(page, "#id_timer_value", "PT2H")
    page.wait_for_function("() => flowyardModeler.get('elementRegistry').get('Event_timeout').businessObject.eventDefinitions[0].timeDuration.body === 'PT2H'")
    select(page, "Event_quote_received")
    set_field(page, "#id_message_name", "quote-v2")
    set_field(page, "#id_correlation_key", "=request_id + 'x'")
    page.wait_for_function("""() => { const bo = flowyardModeler.get('elementRegistry').get('Event_quote_received').businessObject;
        return bo.eventDefinitions[0].messageRef.name === 'quote-v2' && bo.get('flowyard:correlationKey') === "=request_id + 'x'"; }""")
    graph = _graph(page.evaluate("async () => (await flowyardModeler.saveXML()).xml"))
    assert graph["nodes"]["Event_timeout"]["event"]["timer"] == {"type": "duration", "value": "PT2H"}
    assert graph["nodes"]["Event_quote_received"]["event"]["message"] == "quote-v2"
    assert graph["nodes"]["Event_quote_received"]["event"]["correlation_key"] == "=request_id + 'x'"
    wait_saved(page)

    page.goto(f"{live_server_url}/designer/order_fulfilment/")
    page.wait_for_selector("#fy-editor[data-ready='1']")
    select(page, "Task_reserve_stock")
    set_field(page, "#id_http_url", "https://stock.example.com/reserve")
    set_field(page, "#id_retries", "5")
    page.click("#panel-form button[value='add:out']")
    page.wait_for_selector("#panel-form [name='out-0-name']")
    set_field(page, "[name='out-0-expr']", "reservation['id']")
    set_field(page, "[name='out-0-name']", "reservation_id")
    set_field(page, "#id_mi_collection", "=order['lines']")
    set_field(page, "#id_mi_element_variable", "line")
    set_field(page, "#id_mi_mode", "parallel")
    page.wait_for_function("""() => { const bo = flowyardModeler.get('elementRegistry').get('Task_reserve_stock').businessObject;
        const loop = bo.loopCharacteristics;
        return loop && loop.get('flowyard:collection') === "=order['lines']" && loop.get('flowyard:elementVariable') === 'line'
            && bo.extensionElements.values.some(v => v.$type === 'flowyard:Output' && v.name === 'reservation_id'
                                                      && v.expr === "reservation['id']"); }""")
    graph = _graph(page.evaluate("async () => (await flowyardModeler.saveXML()).xml"))
    node = graph["nodes"]["Task_reserve_stock"]
    assert node["props"]["http"]["url"] == "https://stock.example.com/reserve"
    assert node["props"]["http"]["method"] == "POST" and node["props"]["retries"] == 5
    assert node["outputs"] == [{"name": "reservation_id", "expr": "reservation['id']"}]
    assert node["multi_instance"] == {"sequential": False, "cardinality": None, "collection": "=order['lines']",
                                      "element_variable": "line", "completion_condition": None}
    # one panel edit is one undo step: undoing the last one removes the multi-instance only
    page.click("#btn-undo")
    page.wait_for_function("() => !flowyardModeler.get('elementRegistry').get('Task_reserve_stock').businessObject.loopCharacteristics")
    assert bo_get(page, "Task_reserve_stock", "flowyard:retries") == "5"
    page.wait_for_selector("#panel-form #id_mi_mode >> nth=0")
    page.wait_for_function("() => document.querySelector('#panel-form #id_mi_mode').value === ''")
    wait_saved(page)
    assert page_errors == [], page_errors
