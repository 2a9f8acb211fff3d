"""Finding codes of the soundness checker (a public contract, like ``designer.bpmn.findings``).

The checker reuses ``designer.bpmn.findings.Finding``; its codes live here because
``designer.bpmn.findings.finding()`` only knows the ``bpmn.*`` ones. A code is never
reused for a different meaning.

========== ===========================================================================
code       meaning
========== ===========================================================================
sound.E001 no run of the process can complete: every run ends in a deadlock (named: the
           gateway where tokens wait forever). No data can make this model finish.
sound.W001 deadlock: some runs get stuck, tokens waiting at a join that can never fire
sound.W002 lack of synchronisation: two tokens of one scope at the same element where
           only one is expected (the element then runs twice)
sound.W003 improper completion: one end event reached by more than one token of the same
           scope (the scope "ends" while work of the same run is still under way)
sound.W004 livelock: runs can enter a cycle they can never leave (no way to complete)
sound.W005 dead element: no run ever reaches it
sound.W006 not fully verified: the exploration stopped at its bound (states or time)
sound.W007 not fully verified: the engine refused a step while exploring (named element)
========== ===========================================================================

Severity: deadlocks that no run escapes are errors (deploy refuses them outright); every
other finding is a warning, because the checker abstracts data (every condition may be
true or false, independently) and so may see runs that the model's data never produces.
A warning refuses the deploy unless the caller accepts warnings. "Not fully verified" is a
warning too: refusing to vouch for a model is not vouching for it.
"""
from __future__ import annotations

import re

from designer.bpmn.findings import Finding

_CODE_RE = re.compile(r"^sound\.(E|W|I)\d{3}$")
_SEVERITY = {"E": "error", "W": "warning", "I": "info"}
CODES = frozenset(re.findall(r"^(sound\.[EWI]\d{3})\s", __doc__ or "", re.MULTILINE))


def sound_finding(code: str, element: str | None, message: str, hint: str = "") -> Finding:
    """A Finding for a documented ``sound.*`` code; severity follows the code's letter."""
    match = _CODE_RE.match(code)
    if not match or code not in CODES:
        raise ValueError(f"undocumented soundness code {code!r}")
    return Finding(code, _SEVERITY[match.group(1)], element, message, hint)
