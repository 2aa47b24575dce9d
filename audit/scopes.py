"""Which events make up "the trail of case X".

The trail is the ground floor and knows no app above it, yet auditors filter
it by case. The app that owns cases (commission) registers a resolver when it
starts (commission/apps.py); the trail asks it here. With no resolver
registered (a deployment without the commission), filtering by case is
refused with a clear error instead of silently returning everything.
"""

from collections.abc import Callable, Iterable

from config.errors import ApplicationError

# reference -> the (object_type, object_id) pairs of that case, or None when
# no case has that reference.
CaseScope = Callable[[str], Iterable[tuple[str, str]] | None]

_case_scope: CaseScope | None = None


def case_scope_register(resolver: CaseScope) -> None:
    global _case_scope
    _case_scope = resolver


def case_refs(case_reference: str) -> set[tuple[str, str]]:
    """(object_type, object_id) pairs belonging to the case with this reference."""
    if _case_scope is None:
        raise ApplicationError("Filtering the trail by case is not available (no app provides cases).",
                               field="case", code="unavailable")
    refs = _case_scope(case_reference)
    if refs is None:
        raise ApplicationError(f"No case with reference {case_reference}.", field="case", code="not_found")
    return {(str(t), str(i)) for t, i in refs}
