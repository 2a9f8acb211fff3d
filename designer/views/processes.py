"""The process list: search, new process from a starter diagram, import of a .bpmn file."""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from designer.bpmn import BpmnError, compile_bpmn, parse_bpmn
from designer.models import Draft, ProcessDefinition
from designer.services import draft_save

from .common import KEY_RE, process_rows, starter_xml


class NewProcessForm(forms.Form):
    key = forms.CharField(max_length=200, help_text="the BPMN process id, e.g. order_approval")
    name = forms.CharField(max_length=300)

    def clean_key(self):
        key = self.cleaned_data["key"].strip()
        if not KEY_RE.match(key):
            raise forms.ValidationError("use letters, digits, _ - . and start with a letter or _ (an XML NCName)")
        if ProcessDefinition.objects.filter(key=key).exists():
            raise forms.ValidationError(f"a process with the key {key!r} already exists")
        return key


class ImportForm(forms.Form):
    file = forms.FileField(help_text="a BPMN 2.0 XML file (.bpmn)")
    replace = forms.BooleanField(required=False, label="Replace the draft if the process exists")


def _list(request, *, new_form=None, import_form=None, import_problems=None, status=200):
    query = request.GET.get("q", "").strip()
    context = {
        "definitions": process_rows(query), "query": query,
        "new_form": new_form or NewProcessForm(), "import_form": import_form or ImportForm(),
        "import_problems": import_problems or [],
        "open_dialog": "new" if new_form is not None else "import" if import_form is not None else "",
    }
    return render(request, "designer/list.html", context, status=status)


@login_required
def process_list(request):
    if request.htmx and request.htmx.target == "process-rows":
        query = request.GET.get("q", "").strip()
        return render(request, "designer/_process_rows.html", {"definitions": process_rows(query), "query": query})
    return _list(request)


@login_required
@require_POST
def process_new(request):
    form = NewProcessForm(request.POST)
    if not form.is_valid():
        return _list(request, new_form=form, status=400)
    key, name = form.cleaned_data["key"], form.cleaned_data["name"].strip()
    with transaction.atomic():
        definition = ProcessDefinition.objects.create(key=key, name=name, owner=request.user)
        draft_save(definition=definition, xml=starter_xml(key, name), user=request.user)
    return redirect("designer:editor", key=key)


@login_required
@require_POST
def process_import(request):
    """Store an uploaded file as the draft of its process; unreadable files store nothing."""
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _list(request, import_form=form, status=400)
    upload = form.cleaned_data["file"]
    try:
        raw = upload.read()
        parse_bpmn(raw)
        xml = raw.decode("utf-8")
    except BpmnError as exc:
        return _list(request, import_form=form, import_problems=[f.as_dict() for f in exc.findings], status=400)
    except UnicodeDecodeError:
        problem = {"code": "bpmn.E001", "element": None, "message": "the file is not UTF-8 text",
                   "hint": "save the file as UTF-8 XML"}
        return _list(request, import_form=form, import_problems=[problem], status=400)
    result = compile_bpmn(xml)
    if result.process_id is None:
        return _list(request, import_form=form, import_problems=[f.as_dict() for f in result.findings], status=400)
    key = result.process_id
    if not KEY_RE.match(key):
        problem = {"code": "designer.E002", "element": key, "message": f"process id {key!r} cannot be a process key",
                   "hint": "use letters, digits, _ - . in the process id"}
        return _list(request, import_form=form, import_problems=[problem], status=400)
    with transaction.atomic():
        definition, created = ProcessDefinition.objects.select_for_update().get_or_create(
            key=key, defaults={"name": result.process_name or key, "owner": request.user})
        existing = Draft.objects.filter(definition=definition).first()
        if existing and existing.xml != xml and not form.cleaned_data["replace"]:
            problem = {"code": "designer.W001", "element": key, "message": f"process {key!r} already has a draft; nothing was changed",
                       "hint": "tick 'Replace the draft' to overwrite it (deployed versions are never touched)"}
            return _list(request, import_form=form, import_problems=[problem], status=409)
        draft_save(definition=definition, xml=xml, user=request.user)
    errors = len(result.errors)
    note = f" It has {errors} problem{'s' if errors != 1 else ''} to fix before deploying." if errors else ""
    messages.success(request, f"Imported {upload.name} as the draft of {key}.{note}")
    return redirect("designer:editor", key=key)
