"""The trail's events (web/_events.html: the trail page and a case's trail),
built in Python rather than by the template's {% for %}. Why: a page has 50
events, and Django's template engine spent most of the trail page's time on
them, resolving some twenty variables and filters an event (BENCHMARKS.md,
"The trail's events"). Each piece is what the template wrote: every {{ }}
goes through _out, which is render_value_in_context (local time, localize,
autoescape), each filter is the same function, and the diff rows are what
the template's loop over them wrote (diff_rows). tests/web/test_trail_events.py
renders the loop this replaced and compares the bytes, in each language and
another time zone.

The words (`{% translate … as … %}` in web/_events.html) stay in the
template, translated once a page, and come here as they are in the context.
"""

from django.template.defaultfilters import date as date_filter
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime

from web.labels import action_label
from web.trail_diff import ADDED, REMOVED, event_diff

_HEAD = """<li data-action="{action}">
  <p><strong>{label}</strong> <small class="mono muted" title="{action_id}">{action}</small> · \
<span class="mono">{object_type}:{object_id}</span>
  {seq}</p>
  <p class="muted"><time datetime="{iso}">{at} UTC</time> · {actor}</p>
  {reason}
  {diff}
  {stored}
</li>
"""
_DIFF = """<div class="table-wrap"><table class="diff">
    <thead><tr><th scope="col">{field}</th><th scope="col">{before}</th><th scope="col">{after}</th></tr></thead>
    <tbody>{rows}</tbody></table></div>"""


def _out(value) -> str:
    """What {{ value }} writes: django.template.base.render_value_in_context
    with the engine's defaults (time zone and localization on, autoescape)."""
    return conditional_escape(localize(template_localtime(value)))


def diff_rows(rows: list[dict], not_there, added, removed) -> str:
    """The <tr>s of an event's diff table, one per row of web.trail_diff's
    event_diff: the field, then before and after, marked when the field was
    only added or only removed. Every value escaped (conditional_escape)."""
    gone = f'<span class="muted">{conditional_escape(not_there)}</span>'
    was_added = f' <span class="badge ok">{conditional_escape(added)}</span>'
    was_removed = f' <span class="badge bad">{conditional_escape(removed)}</span>'
    out = []
    for r in rows:
        change = r["change"]
        before = gone if change == ADDED else (
            f"<del>{conditional_escape(r['before'])}</del>{was_removed if change == REMOVED else ''}")
        after = gone if change == REMOVED else (
            f"<ins>{conditional_escape(r['after'])}</ins>{was_added if change == ADDED else ''}")
        out.append(f'<tr class="diff-{conditional_escape(change)}">\n'
                   f'      <th scope="row" class="mono">{conditional_escape(r["field"])}</th>\n'
                   f"      <td>{before}</td>\n      <td>{after}</td>\n    </tr>")
    return "".join(out)


def trail_events(events, *, words: dict, pretty_json) -> str:
    """The <li>s of a trail page. `words`: the template's translated words by
    their names there; `pretty_json`: the filter of that name (web.templatetags.web,
    which calls this)."""
    w = {name: _out(value) for name, value in words.items()}
    before_word = f"<p>{w['before']}</p><pre>"
    after_word = f"<p>{w['after']}</p><pre>"
    items = []
    for e in events:
        at = template_localtime(e.at)
        rows = event_diff(e.before, e.after)
        stored = ""
        if e.before is not None or e.after is not None:
            stored = (f"<details><summary>{w['stored']}</summary>\n    "
                      + (f"{before_word}{_out(pretty_json(e.before))}</pre>" if e.before is not None else "")
                      + "\n    "
                      + (f"{after_word}{_out(pretty_json(e.after))}</pre>" if e.after is not None else "")
                      + "\n  </details>")
        items.append(_HEAD.format(
            action=_out(e.action), label=_out(action_label(e.action)), action_id=w["action_id"],
            object_type=_out(e.object_type), object_id=_out(e.object_id),
            seq=(f'<span class="muted">#{_out(e.seq)}</span>' if e.seq
                 else f'<span class="badge warn">{w["being_sealed"]}</span>'),
            iso=_out(date_filter(at, "c")), at=_out(date_filter(at, "Y-m-d H:i:s")),
            actor=_out(e.actor_username) if e.actor_username else w["the_system"],
            reason=f'<p class="prewrap">{w["reason"]}: {_out(e.reason)}</p>' if e.reason else "",
            diff=_DIFF.format(field=w["field"], before=w["before"], after=w["after"],
                              rows=diff_rows(rows, words["not_there"], words["added"], words["removed"]))
            if rows else "",
            stored=stored))
    # Every value above went through _out (escaped as the template escaped it); the rest is ours.
    return mark_safe("".join(items))  # noqa: S308
