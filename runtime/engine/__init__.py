"""Flowyard's pure engine core: compiled graph + instance state + event -> new state,
commands and history. Imports nothing from Django. See docs/engine-core.md."""
from . import commands, events
from .errors import Deadlock, EngineError, StepLimitExceeded
from .graph import Graph, GraphFormatError
from .runner import DEFAULT_MAX_STEPS, StepResult, run
from .starts import StartTrigger, start_triggers
from .state import STATE_FORMAT, InstanceState, StateFormatError, Token, Wait

__all__ = [
    "DEFAULT_MAX_STEPS", "Deadlock", "EngineError", "Graph", "GraphFormatError",
    "InstanceState", "STATE_FORMAT", "StartTrigger", "StateFormatError", "StepLimitExceeded",
    "StepResult", "Token", "Wait", "commands", "events", "run", "start_triggers",
]
