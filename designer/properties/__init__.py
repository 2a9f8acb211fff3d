"""The designer's properties panel: read an element from XML, validate edits, build patches."""
from .element import ElementNotFound, ElementView, element_view
from .panel import Panel, panel_apply, panel_open

__all__ = ["ElementNotFound", "ElementView", "Panel", "element_view", "panel_apply", "panel_open"]
