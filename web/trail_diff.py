"""An event's before and after as a reader sees them: one row per field that
changed, nested data flattened to dotted keys (`location.lat`), what was only
before shown as removed and what is only after as added. Display only: the
stored event, its hash and its export are untouched."""

import re

from django.utils.translation import gettext as _

from web.labels import LABELS

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def flatten(value, prefix: str = "") -> dict[str, object]:
    """{"a": {"b": 1}, "c": [1, 2]} -> {"a.b": 1, "c": [1, 2]}; a list of
    plain values stays one field (read as a list), a list of objects is
    indexed (`items.0.name`)."""
    if isinstance(value, dict):
        if not value:
            return {prefix: {}} if prefix else {}
        out: dict[str, object] = {}
        for key in sorted(value, key=str):
            out.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list) and any(isinstance(v, dict | list) for v in value):
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}.{index}" if prefix else str(index)))
        return out
    return {prefix or "value": value}


def shown(value) -> str:
    """A value in words: codes by their label, yes/no, lists joined."""
    if value is None:
        return "—"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value) if value else _("(none)")
    if value == {}:
        return _("(none)")
    if isinstance(value, str) and _CODE.match(value) and value in LABELS:
        return str(LABELS[value])
    return str(value)


def event_diff(before, after) -> list[dict]:
    """Rows {field, before, after, change} for the fields that differ, in
    field order. An event with only `after` (a creation) lists what it
    recorded as added; one with only `before`, what it removed."""
    old = flatten(before) if isinstance(before, dict | list) else ({} if before is None else {"value": before})
    new = flatten(after) if isinstance(after, dict | list) else ({} if after is None else {"value": after})
    rows = []
    for field in sorted(old.keys() | new.keys()):
        if field in old and field in new:
            if old[field] == new[field]:
                continue
            change = CHANGED
        else:
            change = ADDED if field in new else REMOVED
        rows.append({"field": field, "change": change,
                     "before": shown(old[field]) if field in old else "",
                     "after": shown(new[field]) if field in new else ""})
    return rows
