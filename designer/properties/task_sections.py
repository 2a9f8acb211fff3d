"""Sections for activities: user task assignment and form, service connector, mappings."""
from __future__ import annotations

from django import forms

from designer.bpmn.values import FORM_TYPES, HTTP_METHODS

from .element import ACTIVITIES
from .fields import (DottedPathField, DurationField, ExpressionField, IdentifierField, TextField, ValueField,
                     check_due_date, check_headers, check_priority, check_url)
from .sections import Section, none_if_blank


class FormFieldRow(forms.Form):
    key = IdentifierField(label="Key")
    label = TextField(label="Label")
    type = forms.ChoiceField(label="Type", choices=[(t, t) for t in FORM_TYPES], initial="string")
    required = forms.BooleanField(label="Required", required=False)
    choices = TextField(label="Choices", help_text="enum: a,b,c")
    default = ValueField(label="Default")
    help = TextField(label="Help")

    def clean(self):
        data = super().clean()
        if not data.get("key") and "key" not in self.errors:
            self.add_error("key", "a form field needs a key (the variable it sets)")
        if data.get("type") == "enum" and not data.get("choices"):
            self.add_error("choices", "an enum field needs choices, e.g. approve,reject")
        return data


class UserTaskSection(Section):
    title = "Assignment"
    rows = {"ff": FormFieldRow}
    row_titles = {"ff": "Form fields"}
    assignee = ValueField(label="Assignee", help_text="user name, or =initiator")
    candidate_groups = ValueField(label="Candidate groups", help_text="comma separated; the lane name when empty")
    candidate_users = ValueField(label="Candidate users", help_text="comma separated")
    due_date = ValueField(label="Due date", literal_check=check_due_date, help_text="P2D, 2030-01-31, or =expression")
    priority = ValueField(label="Priority", literal_check=check_priority, help_text="0–100, or =expression")

    @classmethod
    def applies(cls, view):
        return view.type == "userTask"

    @classmethod
    def initial(cls, view):
        return {"assignee": view.fy("assignee"), "candidate_groups": view.fy("candidateGroups"),
                "candidate_users": view.fy("candidateUsers"), "due_date": view.fy("dueDate"),
                "priority": view.fy("priority")}

    @classmethod
    def row_initial(cls, view, prefix):
        rows = []
        for attrs in view.extensions("formField"):
            rows.append({**{k: attrs.get(k, "") for k in ("key", "label", "choices", "default", "help")},
                         "type": attrs.get("type") or "string",
                         "required": (attrs.get("required") or "").lower() == "true"})
        return rows

    def clean(self):
        data = super().clean()
        seen = set()
        for form in self.row_sets["ff"]:
            key = form.cleaned_data.get("key") if not form.blank and form.is_valid() else None
            if key and key in seen:
                form.add_error("key", f"the key {key!r} is used twice in this form")
            seen.add(key)
        return data

    def patch(self):
        data = self.cleaned_data
        fields = []
        for row in self.row_sets["ff"].cleaned_rows():
            attrs = {"key": row["key"], "label": row["label"] or None, "type": row["type"],
                     "required": "true" if row["required"] else None, "choices": row["choices"] or None,
                     "default": row["default"] or None, "help": row["help"] or None}
            fields.append({k: v for k, v in attrs.items() if v is not None})
        return {
            "props": {"flowyard:assignee": none_if_blank(data["assignee"]),
                      "flowyard:candidateGroups": none_if_blank(data["candidate_groups"]),
                      "flowyard:candidateUsers": none_if_blank(data["candidate_users"]),
                      "flowyard:dueDate": none_if_blank(data["due_date"]),
                      "flowyard:priority": none_if_blank(data["priority"])},
            "extensions": {"formField": fields},
        }


class ConnectorSection(Section):
    title = "Connector"
    connector = forms.ChoiceField(label="Connector", required=False, choices=[
        ("", "— none —"), ("http", "HTTP request"), ("python", "Python handler")])
    http_method = forms.ChoiceField(label="HTTP method", choices=[(m, m) for m in HTTP_METHODS], initial="POST", required=False)
    http_url = ValueField(label="URL", literal_check=check_url, help_text="https://…, or =expression")
    http_headers = ValueField(label="Headers", literal_check=check_headers, help_text='JSON object, e.g. {"Accept": "application/json"}')
    http_body = ValueField(label="Body", help_text="sent as JSON; usually =expression such as =order")
    handler = DottedPathField(label="Python handler", help_text="dotted path of a registered handler")
    result_variable = IdentifierField(label="Result variable", help_text="variable that receives the response")
    retries = forms.IntegerField(label="Retries", required=False, min_value=0, max_value=100,
                                 help_text="retries after the first attempt (default 3)")
    retry_backoff = DurationField(label="Retry backoff", help_text="first wait, ISO duration (default PT1S)")
    retry_backoff_coefficient = forms.FloatField(label="Backoff coefficient", required=False, min_value=1, max_value=100,
                                                 help_text="each wait this many times the last (default 2)")
    retry_max_interval = DurationField(label="Max retry interval", help_text="longest wait, ISO duration (default PT5M)")
    timeout = DurationField(label="Timeout", help_text="ISO duration (default PT30S)")

    @classmethod
    def applies(cls, view):
        return view.type in ("serviceTask", "sendTask")

    @classmethod
    def initial(cls, view):
        http = (view.extensions("http") or [{}])[0]
        return {"connector": view.fy("connector"), "http_method": (http.get("method") or "POST").upper(),
                "http_url": http.get("url", ""), "http_headers": http.get("headers", ""), "http_body": http.get("body", ""),
                "handler": view.fy("handler"), "result_variable": view.fy("resultVariable"),
                "retries": view.fy("retries"), "retry_backoff": view.fy("retryBackoff"),
                "retry_backoff_coefficient": view.fy("retryBackoffCoefficient"),
                "retry_max_interval": view.fy("retryMaxInterval"), "timeout": view.fy("timeout")}

    def setup(self):
        current = self.view.fy("connector")
        if current and current not in dict(self.fields["connector"].choices):
            self.fields["connector"].choices = [*self.fields["connector"].choices, (current, f"{current} (registered)")]
        if self.is_bound and self.data.get("connector") not in dict(self.fields["connector"].choices):
            self.fields["connector"].choices = [*self.fields["connector"].choices, (self.data["connector"],) * 2]

    def clean(self):
        data = super().clean()
        if data.get("connector") == "http" and not data.get("http_url") and "http_url" not in self.errors:
            self.add_error("http_url", "an HTTP connector needs a URL")
        if data.get("connector") == "python" and not data.get("handler") and "handler" not in self.errors:
            self.add_error("handler", "a Python connector needs a handler")
        return data

    def patch(self):
        data = self.cleaned_data
        connector = data["connector"]
        http = []
        if connector == "http":
            http = [{k: v for k, v in {"method": data["http_method"] or "POST", "url": data["http_url"],
                                       "headers": data["http_headers"] or None, "body": data["http_body"] or None}.items()
                     if v is not None}]
        return {
            "props": {"flowyard:connector": none_if_blank(connector),
                      "flowyard:handler": none_if_blank(data["handler"]) if connector == "python" else None,
                      "flowyard:resultVariable": none_if_blank(data["result_variable"]),
                      "flowyard:retries": str(data["retries"]) if data["retries"] is not None else None,
                      "flowyard:retryBackoff": none_if_blank(data["retry_backoff"]),
                      "flowyard:retryBackoffCoefficient": (f"{data['retry_backoff_coefficient']:g}"
                                                           if data["retry_backoff_coefficient"] is not None else None),
                      "flowyard:retryMaxInterval": none_if_blank(data["retry_max_interval"]),
                      "flowyard:timeout": none_if_blank(data["timeout"])},
            "extensions": {"http": http},
        }


class MappingRow(forms.Form):
    name = IdentifierField(label="Variable")
    expr = ExpressionField(label="Expression")

    def clean(self):
        data = super().clean()
        for name in ("name", "expr"):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, "required")
        return data


class MappingSection(Section):
    title = "Inputs and outputs"
    rows = {"in": MappingRow, "out": MappingRow}
    row_titles = {"in": "Inputs (evaluated on entry)", "out": "Outputs (written on completion)"}

    @classmethod
    def applies(cls, view):
        return view.type in ACTIVITIES

    @classmethod
    def row_initial(cls, view, prefix):
        kind = "input" if prefix == "in" else "output"
        return [{"name": a.get("name", ""), "expr": a.get("expr", "")} for a in view.extensions(kind)]

    def patch(self):
        return {"extensions": {
            "input": [{"name": r["name"], "expr": r["expr"]} for r in self.row_sets["in"].cleaned_rows()],
            "output": [{"name": r["name"], "expr": r["expr"]} for r in self.row_sets["out"].cleaned_rows()],
        }}
