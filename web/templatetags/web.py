from django import template
from django.urls import reverse
from django.utils.safestring import mark_safe

from accounts.roles import has_role as _has_role

register = template.Library()


@register.filter
def has_role(user, roles: str) -> bool:
    """{% if user|has_role:"verifier,chair" %}"""
    return _has_role(user, *[r.strip() for r in roles.split(",") if r.strip()])


@register.simple_tag(takes_context=True)
def nav_current(context, url_name: str) -> str:
    request = context.get("request")
    if request is not None and request.path == reverse(url_name):
        return mark_safe(' aria-current="page"')  # noqa: S308 (a constant)
    return ""


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def label(code) -> str:
    from web.labels import label as _label

    return _label(code)


@register.filter
def action_label(code) -> str:
    from web.labels import action_label as _action_label

    return _action_label(code)


@register.filter
def event_diff(event) -> list[dict]:
    """The event's before and after as rows of a table (web.trail_diff)."""
    from web.trail_diff import event_diff as _event_diff

    return _event_diff(event.before, event.after)


@register.simple_tag
def board_cards(cases) -> str:
    """One column of the board's cards (web.board_cards says why they are not a {% for %} in web/board.html)."""
    from web.board_cards import board_cards as _board_cards

    return _board_cards(cases)


# The words web/_events.html translates once a page, by their names there.
_TRAIL_WORDS = ("not_there", "added", "removed", "action_id", "being_sealed", "the_system", "reason", "field",
                "before", "after", "stored")


@register.simple_tag(takes_context=True)
def trail_events(context, events) -> str:
    """The trail's events (web.trail_events says why they are not a {% for %} in web/_events.html)."""
    from web.trail_events import trail_events as _trail_events

    return _trail_events(events, words={name: context[name] for name in _TRAIL_WORDS}, pretty_json=pretty_json)


@register.filter
def badge(code) -> str:
    """<span class="badge ...">label</span> for a status code."""
    from django.utils.html import format_html

    from web.labels import BADGE
    from web.labels import label as _label

    return format_html('<span class="badge {}">{}</span>', BADGE.get(str(code), ""), _label(code))


@register.simple_tag
def field_widget(field):
    """The field's widget, pointing at its help text and its errors
    (aria-describedby), so a screen reader reads the message with the field."""
    ids = []
    if field.errors:
        ids.append(f"{field.auto_id}_errors")
    if field.help_text:
        ids.append(f"{field.auto_id}_helptext")
    attrs = {"aria-describedby": " ".join(ids)} if ids else {}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.filter
def pretty_json(value) -> str:
    import json

    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@register.filter
def form_errors(form) -> list[str]:
    """Errors not shown next to a visible field: the form's own, and those of
    its hidden fields (a service refusing the hidden `report` of a detach
    form must still be read by the person who clicked)."""
    errors = list(form.non_field_errors())
    for field in form.hidden_fields():
        errors.extend(field.errors)
    return errors


@register.filter
def local_time(value) -> str:
    """<time datetime="…Z" data-local>2026-01-01 10:00 UTC</time>: UTC as the
    server knows it; web/static/web/localtime.js shows it in the viewer's
    time zone and keeps UTC in the title. "—" for no time (a draft's)."""
    from datetime import UTC

    from django.utils.html import format_html

    if not value:
        return "—"
    at = value.astimezone(UTC)
    return format_html('<time datetime="{}" data-local>{} UTC</time>',
                       at.isoformat().replace("+00:00", "Z"), at.strftime("%Y-%m-%d %H:%M"))


# The report id in a blank return box, replaced by each card's own (see return_box).
_ANY_REPORT = "__report__"


@register.simple_tag(takes_context=True)
def return_box(context, form):
    """An inbox card's "Return to the monitor" box (web/_return_box.html) for
    its own ReportReturnForm. A form not bound (every card's but the one just
    refused) differs from card to card only by the report id in its prefix:
    the box is rendered once a page and each card's id put in it. Fifty
    cards rendered the same box fifty times, half of the inbox's rendering
    (BENCHMARKS.md, "The inbox")."""
    from django.template.loader import render_to_string

    request = context.get("request")
    if form.is_bound:
        return render_to_string("web/_return_box.html", {"rf": form}, request=request)
    blanks = context.render_context.setdefault("return_box", {})
    if type(form) not in blanks:
        blank = type(form)(report_pk=_ANY_REPORT)
        blanks[type(form)] = render_to_string("web/_return_box.html", {"rf": blank}, request=request)
    return mark_safe(blanks[type(form)].replace(_ANY_REPORT, str(int(form.report_pk))))  # noqa: S308 (ours, an int put in)


@register.simple_tag(takes_context=True)
def inbox_cards(context, items) -> str:
    """The inbox's cards (web.inbox_cards says why they are not a {% for %} in web/inbox.html)."""
    from web.inbox_cards import inbox_cards as _inbox_cards

    return _inbox_cards(items, selected=context.get("selected") or (), similar_limit=context["similar_limit"],
                        return_box=lambda form: return_box(context, form), local_time=local_time)


@register.simple_tag(takes_context=True)
def inbox_card_forms(context, items) -> str:
    """The inbox cards' own forms (web.inbox_cards)."""
    from django.template.defaulttags import CsrfTokenNode

    from web.inbox_cards import inbox_card_forms as _inbox_card_forms

    return _inbox_card_forms(items, csrf_input=CsrfTokenNode().render(context))
