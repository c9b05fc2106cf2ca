"""The ``triage`` command (``triage.cli``): dispatches to services, local stack, tools."""
