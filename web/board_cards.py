"""The chair's board's cards (web/board.html), built in Python rather than by
the template's {% for %}, as web.inbox_cards builds the inbox's (which says
how each piece is made the template's way). Why: the board shows up to 90
cards, and after the page's six queries the template's loop over them was
its largest part; built here, the page takes an eighth less CPU
(BENCHMARKS.md, "The board's cards"). tests/web/test_board_cards.py renders
the loop this replaced and compares the bytes, in each language and another
time zone.
"""

from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import timeuntil_filter
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext

from web.inbox_cards import blocktranslate, id_url
from web.labels import label

_CARD = """
  <li class="card"><a href="{url}"><strong>{reference}</strong></a> — {title}
    {missed}
    {next}
    {round}
  </li>"""


def _words() -> dict:
    """The cards' words, translated once a page: the template's {% translate %}
    of a literal (safe, not escaped) and the messages of its {% blocktranslate %}s."""
    return {"missed": mark_safe(gettext("deadline missed")), "was_due": mark_safe(gettext("was due")),  # noqa: S308
            "paused": mark_safe(gettext("paused")), "due_in": mark_safe(gettext("due in")),  # noqa: S308
            "since": gettext("since %(since)s UTC (%(reason)s)"),
            "cast": gettext("%(cast)s of %(eligible)s ballots cast")}


def _next(deadline, words) -> str:
    """The case's next deadline: paused since when and why, or due in how long."""
    if deadline.status == "paused":
        when = format_html('<span class="badge warn">{}</span> {}', words["paused"], blocktranslate(
            words["since"], since=date_filter(template_localtime(deadline.paused_at), "Y-m-d H:i"),
            reason=deadline.pause_reason))
    else:
        when = format_html("{} {}", words["due_in"], timeuntil_filter(deadline.due_at))
    return format_html('<p class="muted">{}: {}</p>', label(deadline.kind), when)


def board_cards(cases) -> str:
    """The <li>s of one column of the board (the cases of web.commission_reads.board)."""
    words = _words()
    case_url = id_url("web:case_detail")
    cards = []
    for c in cases:
        missed = ""
        if c.missed:
            missed = format_html('<p><span class="badge bad">{}</span> {}, {} {} UTC</p>', words["missed"],
                                 label(c.missed.kind), words["was_due"],
                                 date_filter(template_localtime(c.missed.due_at), "Y-m-d H:i"))
        turnout = ""
        if c.open_round:
            turnout = format_html('<p class="muted">{}</p>', blocktranslate(
                words["cast"], cast=c.open_round["ballots_cast"], eligible=c.open_round["eligible_count"]))
        cards.append(format_html(_CARD, url=case_url(c.pk), reference=c.reference, title=c.title, missed=missed,
                                 next=_next(c.next_deadline, words) if c.next_deadline else "", round=turnout))
    return mark_safe("".join(cards))  # noqa: S308 (each card made by format_html)
