"""The designer's pages; one module per screen (list, editor, versions)."""
from .editor import deploy, draft, editor, panel, validate
from .processes import process_import, process_list, process_new
from .versions import instance_start_view, version_detail, version_diff, version_list, version_xml

__all__ = [
    "deploy", "draft", "editor", "instance_start_view", "panel", "process_import", "process_list", "process_new",
    "validate", "version_detail", "version_diff", "version_list", "version_xml",
]
