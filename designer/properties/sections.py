"""Panel sections: which fields an element type shows, their current values, and the patch
that writes validated values back into the diagram.

A section is a Django form plus three class-level hooks: ``applies(view)`` (is it shown
for this element), ``initial(view)`` (values read from the XML) and ``patch()`` (the
validated values as a patch for static/designer/patch.js). Sections are independent, so a
mistake in one field never blocks an edit elsewhere in the panel.
"""
from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError

from .element import ACTIVITIES, CATCHING, SPLITTING_GATEWAYS, ElementView
from .fields import NCNAME, ExpressionField, IdentifierField, TextField, ValueField, check_expression, check_timer
from .rows import Rows

SCRIPT_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\s*=(?!=)\s*(.*)$")


class Section(forms.Form):
    title = ""
    rows: dict[str, type[forms.Form]] = {}  # prefix -> row form, e.g. {"ff": FormFieldRow}
    row_titles: dict[str, str] = {}

    def __init__(self, view: ElementView, data=None, action: str = ""):
        self.view = view
        super().__init__(data, initial=None if data is not None else self.initial(view),
                         prefix=None, use_required_attribute=False)
        self.row_sets = {
            prefix: Rows(prefix, form_class, initial=self.row_initial(view, prefix) if data is None else None,
                         data=data, action=action, title=self.row_titles.get(prefix, prefix))
            for prefix, form_class in self.rows.items()
        }
        self.setup()

    @classmethod
    def applies(cls, view: ElementView) -> bool:
        return True

    @classmethod
    def initial(cls, view: ElementView) -> dict:
        return {}

    @classmethod
    def row_initial(cls, view: ElementView, prefix: str) -> list[dict]:
        return []

    def setup(self) -> None:
        """Adjust fields to the element (choices, hidden fields)."""

    def valid(self) -> bool:
        own = self.is_valid()  # first: clean() may add errors to rows (duplicate keys)
        return all([own] + [rows.is_valid() for rows in self.row_sets.values()])

    def patch(self) -> dict:
        return {}


def none_if_blank(value):
    return value if value not in ("", None) else None


class GeneralSection(Section):
    title = "General"
    id = TextField(label="ID", help_text="unique in the file; letters, digits, _ - .")
    name = TextField(label="Name", widget=forms.TextInput)
    executable = forms.BooleanField(label="Executable", required=False,
                                    help_text="only executable processes are deployed without a warning")

    @classmethod
    def initial(cls, view):
        return {"id": view.id, "name": view.get("name") or "",
                "executable": (view.get("isExecutable") or "").lower() == "true"}

    def setup(self):
        if self.view.is_process:
            self.fields["id"].disabled = True
            self.fields["id"].help_text = "the process key; fixed once the process exists"
            if self.view.type != "process":
                del self.fields["executable"]
        else:
            del self.fields["executable"]

    def clean_id(self):
        value = self.cleaned_data["id"]
        if self.view.is_process:
            return self.view.id
        if not value:
            raise ValidationError("an ID is required")
        if not NCNAME.match(value):
            raise ValidationError(f"{value!r} is not a valid ID: start with a letter or '_', then letters, digits, _ - .")
        if value != self.view.id and value in self.view.ids():
            raise ValidationError(f"another element already has the ID {value!r}")
        return value

    def patch(self):
        props = {"name": none_if_blank(self.cleaned_data["name"])}
        if not self.view.is_process:
            props["id"] = self.cleaned_data["id"]
        if "executable" in self.fields:
            props["isExecutable"] = self.cleaned_data["executable"]
        return {"props": props}


class FlowSection(Section):
    title = "Condition"
    condition = ExpressionField(label="Condition", widget=forms.Textarea(attrs={"rows": 2}),
                                help_text='Python-style expression, e.g. amount > 1000 and risk == "low"')
    is_default = forms.BooleanField(label="Default flow", required=False,
                                    help_text="taken when no other condition holds")

    @classmethod
    def applies(cls, view):
        return view.type == "sequenceFlow"

    @classmethod
    def initial(cls, view):
        source = view.source
        return {"condition": view.text("conditionExpression"),
                "is_default": source is not None and source.get("default") == view.id}

    def setup(self):
        source = self.view.source
        source_type = source.tag.rpartition("}")[2] if source is not None else ""
        if source_type not in SPLITTING_GATEWAYS + ACTIVITIES:
            del self.fields["is_default"]
        if source_type in ("parallelGateway", "eventBasedGateway"):
            self.fields["condition"].help_text = f"conditions are never evaluated after a {source_type}"

    def clean(self):
        data = super().clean()
        if data.get("is_default") and data.get("condition"):
            self.add_error("condition", "a default flow carries no condition; clear it or untick 'Default flow'")
        return data

    def patch(self):
        out = {"condition": none_if_blank(self.cleaned_data["condition"])}
        if "is_default" in self.fields:
            out["isDefault"] = self.cleaned_data["is_default"]
        return out


class DefaultFlowSection(Section):
    title = "Gateway"
    default_flow = forms.ChoiceField(label="Default flow", required=False,
                                     help_text="taken when no condition of the other flows holds")

    @classmethod
    def applies(cls, view):
        return view.type in SPLITTING_GATEWAYS

    @classmethod
    def initial(cls, view):
        return {"default_flow": view.get("default") or ""}

    def setup(self):
        self.fields["default_flow"].choices = [("", "— none —")] + self.view.outgoing()

    def patch(self):
        return {"default": none_if_blank(self.cleaned_data["default_flow"])}


TIMER_TYPES = [("timeDuration", "Duration (PT15M)"), ("timeDate", "Date (2030-01-31T09:00:00Z)"),
               ("timeCycle", "Cycle (R3/PT1H)")]
_TIMER_KIND = {"timeDuration": "duration", "timeDate": "date", "timeCycle": "cycle"}


class TimerSection(Section):
    title = "Timer"
    timer_type = forms.ChoiceField(label="Type", choices=TIMER_TYPES)
    timer_value = TextField(label="Value", help_text="ISO 8601, or =expression")

    @classmethod
    def applies(cls, view):
        return view.event_kind == "timer"

    @classmethod
    def initial(cls, view):
        definition = view.event_definition
        for tag, _ in TIMER_TYPES:
            for child in definition:
                if child.tag.rpartition("}")[2] == tag:
                    return {"timer_type": tag, "timer_value": "".join(child.itertext()).strip()}
        return {"timer_type": "timeDuration", "timer_value": ""}

    def clean(self):
        data = super().clean()
        value = data.get("timer_value")
        if value and data.get("timer_type"):
            try:
                if value.startswith("="):
                    check_expression(value[1:])
                else:
                    check_timer(_TIMER_KIND[data["timer_type"]], value)
            except ValidationError as exc:
                self.add_error("timer_value", exc)
        return data

    def patch(self):
        return {"timer": {"type": self.cleaned_data["timer_type"], "body": none_if_blank(self.cleaned_data["timer_value"])}}


class MessageSection(Section):
    title = "Message"
    message_name = TextField(label="Message name", help_text="pick an existing message or type a new name")
    correlation_key = ValueField(label="Correlation key",
                                 help_text="value the message must carry, usually =expression such as =order_id")

    @classmethod
    def applies(cls, view):
        return view.event_kind == "message" or view.type in ("receiveTask", "sendTask")

    @classmethod
    def initial(cls, view):
        holder = view.event_definition if view.event_kind == "message" else view.el
        message = view.root_element("message", holder.get("messageRef"))
        name = (message.get("name") or message.get("id")) if message is not None else ""
        return {"message_name": name, "correlation_key": view.fy("correlationKey")}

    def setup(self):
        self.message_names = self.view.root_names("message")
        self.fields["message_name"].widget.attrs["list"] = "message-names"
        if not (self.view.type in CATCHING or self.view.type == "receiveTask"):
            del self.fields["correlation_key"]
        if self.view.type == "sendTask":
            self.fields["message_name"].help_text = "published when the task has no connector"

    def patch(self):
        out = {"message": none_if_blank(self.cleaned_data["message_name"])}
        if "correlation_key" in self.fields:
            out["props"] = {"flowyard:correlationKey": none_if_blank(self.cleaned_data["correlation_key"])}
        return out


class SignalSection(Section):
    title = "Signal"
    signal_name = TextField(label="Signal name")

    @classmethod
    def applies(cls, view):
        return view.event_kind == "signal"

    @classmethod
    def initial(cls, view):
        signal = view.root_element("signal", view.event_definition.get("signalRef"))
        return {"signal_name": (signal.get("name") or signal.get("id")) if signal is not None else ""}

    def patch(self):
        return {"signal": none_if_blank(self.cleaned_data["signal_name"])}


class ErrorSection(Section):
    title = "Error"
    error_code = TextField(label="Error code", help_text="e.g. HTTP_404 or PAYMENT_DECLINED; empty on a boundary = catch any")

    @classmethod
    def applies(cls, view):
        return view.event_kind == "error"

    @classmethod
    def initial(cls, view):
        error = view.root_element("error", view.event_definition.get("errorRef"))
        return {"error_code": (error.get("errorCode") or error.get("name") or "") if error is not None else ""}

    def patch(self):
        return {"error": none_if_blank(self.cleaned_data["error_code"])}


class ScriptSection(Section):
    title = "Script"
    script = TextField(label="Script", strip=False, widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false"}),
                       help_text="one assignment per line: total = price * quantity")

    @classmethod
    def applies(cls, view):
        return view.type == "scriptTask"

    @classmethod
    def initial(cls, view):
        return {"script": view.text("script")}

    def clean_script(self):
        text = self.cleaned_data["script"].strip("\n")
        problems = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            match = SCRIPT_LINE.match(line)
            if not match:
                problems.append(f"line {number} is not 'name = expression'")
                continue
            try:
                check_expression(match.group(2))
            except ValidationError as exc:
                problems.append(f"line {number}: {exc.messages[0]}")
        if problems:
            raise ValidationError(problems)
        return text

    def patch(self):
        return {"props": {"script": none_if_blank(self.cleaned_data["script"]), "scriptFormat": None}}


class CallActivitySection(Section):
    title = "Called process"
    called_element = forms.ChoiceField(label="Process key", required=False,
                                       help_text="the latest deployed version of this process runs")

    @classmethod
    def applies(cls, view):
        return view.type == "callActivity"

    @classmethod
    def initial(cls, view):
        return {"called_element": view.get("calledElement") or ""}

    def setup(self):
        keys = list(self.view.deployed_keys)
        current = self.view.get("calledElement")
        if current and current not in keys:
            keys.append(current)
        self.fields["called_element"].choices = [("", "— choose a deployed process —")] + [(k, k) for k in keys]
        if current and current not in self.view.deployed_keys:
            self.fields["called_element"].help_text = f"{current!r} is not deployed yet"

    def patch(self):
        return {"props": {"calledElement": none_if_blank(self.cleaned_data["called_element"])}}


class MultiInstanceSection(Section):
    title = "Multi-instance"
    mi_mode = forms.ChoiceField(label="Runs", choices=[("", "once"), ("parallel", "in parallel, once per item"),
                                                       ("sequential", "one after another, once per item")], required=False)
    mi_collection = ValueField(label="Collection", help_text="=expression giving a list, e.g. =items")
    mi_element_variable = IdentifierField(label="Element variable", help_text="name of the current item inside")
    mi_cardinality = ExpressionField(label="Cardinality", help_text="number of instances when there is no collection")
    mi_completion = ExpressionField(label="Completion condition", help_text="finish early when true")

    @classmethod
    def applies(cls, view):
        return view.type in ACTIVITIES

    @classmethod
    def initial(cls, view):
        loop = view.multi_instance
        if loop is None:
            return {"mi_mode": ""}
        from designer.bpmn.xmlns import FLOWYARD, child_text
        return {
            "mi_mode": "sequential" if (loop.get("isSequential") or "").lower() == "true" else "parallel",
            "mi_collection": loop.get(f"{{{FLOWYARD}}}collection") or view.fy("collection"),
            "mi_element_variable": loop.get(f"{{{FLOWYARD}}}elementVariable") or view.fy("elementVariable"),
            "mi_cardinality": child_text(loop, "loopCardinality") or "",
            "mi_completion": child_text(loop, "completionCondition") or "",
        }

    def clean(self):
        data = super().clean()
        if data.get("mi_mode") and not (data.get("mi_collection") or data.get("mi_cardinality")) and not self.errors:
            self.add_error("mi_collection", "give a collection (or a cardinality) to run over")
        return data

    def patch(self):
        data = self.cleaned_data
        if not data["mi_mode"]:
            return {"multiInstance": None}
        return {"multiInstance": {
            "isSequential": data["mi_mode"] == "sequential",
            "loopCardinality": none_if_blank(data["mi_cardinality"]),
            "completionCondition": none_if_blank(data["mi_completion"]),
            "flowyard:collection": none_if_blank(data["mi_collection"]),
            "flowyard:elementVariable": none_if_blank(data["mi_element_variable"]),
        }}
