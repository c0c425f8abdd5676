"""Refactor suggestions: R1 proposes behaviour-preserving edits to what is staged; tests decide which to show.

``r1agent refactor`` and the ``r1agent-refactor`` pre-commit hook both run ``run_refactor``.
"""
