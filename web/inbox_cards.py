"""The inbox's cards (web/inbox.html), built in Python rather than by the
template's loops. Why: a page has 50 cards, and Django's template engine took
11 of the page's 37 ms to render them and their small forms, most of it
resolving variables and running filters card by card (BENCHMARKS.md, "The
inbox's cards"). Each piece is made by the function the template called (the
same filters, gettext, localize, the csrf_token tag), and every value goes
through format_html, so it is escaped exactly as the template escaped it:
tests/web/test_inbox_cards.py renders the loops this replaced and compares
the bytes, in each language and another time zone.

They follow the active language, time zone and number formats, as the
template did; not {% localize off %}, {% localtime %} or {% autoescape off %}
around the tag (the page uses none). A translation whose placeholders do not
match its message fails here where {% blocktranslate %} fell back to English:
compilemessages (msgfmt --check-format) refuses such a catalog first.
"""

from django.core.exceptions import ImproperlyConfigured
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import floatformat, truncatechars
from django.urls import reverse
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext, ngettext

from web.labels import label

NONE = "—"


def id_url(name: str):
    """(Also web.board_cards'.) pk -> reverse(name, args=[pk]) for a URL with one <int:pk>: reversed
    once a page and each id put in its place (reverse took a tenth of the
    cards' time, called 70 to 120 times a page)."""
    marker = 987654321987654321
    before, found, after = reverse(name, args=[marker]).partition(str(marker))
    if not found:
        raise ImproperlyConfigured(f"{name}: the URL does not carry its id as it is")
    return lambda pk: f"{before}{int(pk)}{after}"


_CARD = """
    <li class="card">
      <label class="checkbox"><input type="checkbox" name="reports" value="{pk}"{checked}>
        <span><strong>{reference}</strong> · {category}</span></label>
      <p>{occurred} · {place} <span class="mono">({lat}, {lon})</span> · {alleged}: {party}</p>
      <p>{description}</p>
      <p><a href="{url}">{read}</a></p>
      {duplicates}
      {return_box}
    </li>"""
_SIMILAR = """
        <li><a href="{}">{}</a> · {} · {}{}</li>"""


def _words(similar_limit: int) -> dict:
    """The cards' words, translated once a page: the template's {% translate %}
    of a literal (safe, not escaped) and the messages of its {% blocktranslate %}s."""
    return {"alleged": mark_safe(gettext("alleged")), "read": mark_safe(gettext("Read the report")),  # noqa: S308
            "duplicates": mark_safe(gettext("Possible duplicates")), "in": mark_safe(gettext("in")),  # noqa: S308
            "none": mark_safe(gettext("No duplicate candidates.")),  # noqa: S308
            "away": gettext("%(d)s m away"), "add_to": gettext("Add to %(ref)s"),
            "more": ngettext("And more: only the nearest %(n)s is shown.",
                             "And more: only the nearest %(n)s are shown.", similar_limit)}


def blocktranslate(message: str, **values) -> str:
    """{% blocktranslate with … %}: the translation as it is, the values escaped (also web.board_cards')."""
    return mark_safe(message % {k: conditional_escape(localize(v)) for k, v in values.items()})  # noqa: S308


def _similar(candidates, words, report_url) -> str:
    """The card's candidates: each one's line, then "and more" when the rule passes others."""

    def line(s):
        away = blocktranslate(words["away"], d=floatformat(s.distance_m, "0"))
        where = format_html(" · {} {}", words["in"], s.case_reference) if s.case_reference else ""
        return (report_url(s.pk), s.reference, away,
                date_filter(template_localtime(s.occurred_at), "Y-m-d H:i"), where)

    return format_html_join("", _SIMILAR, (line(s) for s in candidates))


def _duplicates(item, words, similar_limit, report_url) -> str:
    similar = item["similar"]
    if not similar:
        return format_html('<p class="muted">{}</p>', words["none"])
    more = ""
    if similar.more:
        more = format_html('<li class="muted">{}</li>', blocktranslate(words["more"], n=similar_limit))
    join = format_html_join("", '<p><button type="submit" form="add-{}-{}" class="secondary">{}</button></p>', (
        (localize(item["report"].pk), localize(case.pk), blocktranslate(words["add_to"], ref=case.reference))
        for case in item["join"]))
    return format_html("<p><strong>{}</strong></p><ul>{}\n        {}</ul>\n      {}\n      ", words["duplicates"],
                       _similar(similar, words, report_url), more, join)


def inbox_cards(items, *, selected, similar_limit, return_box, local_time) -> str:
    """The <li>s of the inbox's cards. `return_box(form)`: the card's
    "Return to the monitor" box; `local_time`: the filter of that name (both
    from web.templatetags.web, which calls this)."""
    words = _words(similar_limit)
    report_url = id_url("web:report_detail")
    selected = set(selected)
    cards = []
    for item in items:
        r = item["report"]
        party = r.alleged_party.code if r.alleged_party is not None else ""
        cards.append(format_html(
            _CARD, pk=localize(r.pk), checked=mark_safe(" checked") if str(r.pk) in selected else "",  # noqa: S308
            reference=r.reference, category=label(r.category), occurred=local_time(r.occurred_at),
            place=r.place_name or NONE, lat=localize(r.lat), lon=localize(r.lon), alleged=words["alleged"],
            party=party or NONE, description=truncatechars(r.description, 160),
            url=report_url(r.pk), read=words["read"],
            duplicates=_duplicates(item, words, similar_limit, report_url), return_box=return_box(item["return_form"])))
    return mark_safe("".join(cards))  # noqa: S308 (each card made by format_html)


def inbox_card_forms(items, *, csrf_input: str) -> str:
    """The cards' own small forms, outside the page's case form (forms cannot
    nest): each card's return form, and one per "add to that case" button.
    `csrf_input`: the page's {% csrf_token %}, rendered once."""
    return_url = id_url("web:report_return")
    forms = []
    for item in items:
        r = item["report"]
        forms.append(format_html('<form id="{}" method="post" action="{}" novalidate>{}</form>\n',
                                 item["return_form"].element_id, return_url(r.pk), csrf_input))
        forms.extend(format_html('<form id="add-{}-{}" method="post" action="{}" data-once>{}</form>', localize(r.pk),
                                 localize(case.pk), reverse("web:inbox_add_to_case", args=[r.pk, case.pk]), csrf_input)
                     for case in item["join"])
    return mark_safe("".join(forms))  # noqa: S308 (each form made by format_html)
