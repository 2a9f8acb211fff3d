"""Repeating rows (form fields, input/output mappings) posted as ``<prefix>-<i>-<field>``.

Lighter than Django formsets on purpose: the panel re-renders on every change, rows are
added and removed by the server (``_action=add:<prefix>`` / ``remove:<prefix>:<i>``),
and a row left completely blank is simply not written.
"""
from __future__ import annotations

from django import forms


class Rows:
    def __init__(self, prefix: str, form_class: type[forms.Form], *, initial: list[dict] | None = None,
                 data=None, action: str = "", title: str = ""):
        self.prefix = prefix
        self.title = title
        self.form_class = form_class
        if data is None:
            self.forms = [form_class(prefix=f"{prefix}-{i}", initial=row) for i, row in enumerate(initial or [])]
        else:
            self.forms = self._bind(data, action)

    def _bind(self, data, action: str) -> list[forms.Form]:
        try:
            count = min(int(data.get(f"{self.prefix}-count", 0)), 200)
        except ValueError:
            count = 0
        rows = []
        for i in range(count):
            if action == f"remove:{self.prefix}:{i}":
                continue
            row = {name: data.get(f"{self.prefix}-{i}-{name}", "") for name in self.form_class.base_fields}
            for name, field in self.form_class.base_fields.items():
                if isinstance(field, forms.BooleanField):
                    row[name] = f"{self.prefix}-{i}-{name}" in data
            rows.append(row)
        if action == f"add:{self.prefix}":
            rows.append({name: field.initial or "" for name, field in self.form_class.base_fields.items()})
        forms_ = []
        for i, row in enumerate(rows):
            bound = {f"{self.prefix}-{i}-{k}": v for k, v in row.items() if v not in (False, None)}
            form = self.form_class(bound, prefix=f"{self.prefix}-{i}", empty_permitted=True, use_required_attribute=False)
            form.blank = not form.has_changed()
            forms_.append(form)
        return forms_

    @property
    def count(self) -> int:
        return len(self.forms)

    def is_valid(self) -> bool:
        return all(getattr(f, "blank", False) or f.is_valid() for f in self.forms)

    def cleaned_rows(self) -> list[dict]:
        return [f.cleaned_data for f in self.forms if not getattr(f, "blank", False)]

    def __iter__(self):
        return iter(self.forms)
