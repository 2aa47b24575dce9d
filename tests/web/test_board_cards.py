"""The board's cards are built by web.board_cards, not by a {% for %} in
web/board.html (BENCHMARKS.md, "The board's cards"). They must be the very
bytes the template's loop rendered, in every language and time zone, for
every kind of card: a missed deadline, a running one, a paused one (with a
reason that needs escaping), an open round's turnout, and a title that
needs escaping."""

from datetime import timedelta

import pytest
from django.template import engines
from django.utils import timezone, translation

from commission import services
from commission.models import Deadline
from web import commission_reads

pytestmark = pytest.mark.django_db

# The loop web.board_cards replaced, as it was in web/board.html: the stock way to compare with.
STOCK = """{% load i18n web %}<ul class="cards">{% for c in column.cases %}
  <li class="card"><a href="{% url 'web:case_detail' c.pk %}"><strong>{{ c.reference }}</strong></a> — {{ c.title }}
    {% if c.missed %}<p><span class="badge bad">{% translate "deadline missed" %}</span> {{ c.missed.kind|label }}, {% translate "was due" %} {{ c.missed.due_at|date:"Y-m-d H:i" }} UTC</p>{% endif %}
    {% if c.next_deadline %}<p class="muted">{{ c.next_deadline.kind|label }}: {% if c.next_deadline.status == "paused" %}<span class="badge warn">{% translate "paused" %}</span> {% blocktranslate with since=c.next_deadline.paused_at|date:"Y-m-d H:i" reason=c.next_deadline.pause_reason %}since {{ since }} UTC ({{ reason }}){% endblocktranslate %}{% else %}{% translate "due in" %} {{ c.next_deadline.due_at|timeuntil }}{% endif %}</p>{% endif %}
    {% if c.open_round %}<p class="muted">{% blocktranslate with cast=c.open_round.ballots_cast eligible=c.open_round.eligible_count %}{{ cast }} of {{ eligible }} ballots cast{% endblocktranslate %}</p>{% endif %}
  </li>{% endfor %}</ul>"""  # noqa: E501
TAG = '{% load web %}<ul class="cards">{% board_cards column.cases %}</ul>'


@pytest.fixture
def columns(people, case_in):
    """The board's columns with one card of each kind."""
    late = case_in("verification", title="Late <one> & \"quoted\"")
    deadline = Deadline.objects.get(case=late)
    services.deadline_fire(deadline_id=deadline.pk, now=deadline.due_at + timedelta(seconds=1))
    case_in("verification", title="On time")
    paused = case_in("attribution", title="Paused")
    rnd = services.round_open(actor=people["chair"], case=paused)
    services.deadline_pause(actor=people["chair"], deadline=Deadline.objects.get(round=rnd),
                            reason="Access <denied> & \"blocked\"")
    voting = case_in("attribution", title="Voting")
    rnd = services.round_open(actor=people["chair"], case=voting)
    services.ballot_cast(actor=people["member1"], round=rnd, choice="RU", rationale="Tracks.")
    case_in("measures", title="Measures")
    found = commission_reads.board(people["chair"])
    cards = [c for column in found for c in column["cases"]]
    assert any(c.missed for c in cards) and any(c.open_round for c in cards)
    assert {c.next_deadline.status for c in cards if c.next_deadline} >= {"paused", "pending"}
    return found


@pytest.mark.parametrize("language", ["en", "fr", "uk"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Kyiv"])
def test_the_cards_are_the_bytes_the_templates_loop_rendered(columns, language, zone):
    stock, tag = engines["django"].from_string(STOCK), engines["django"].from_string(TAG)
    with translation.override(language), timezone.override(zone):
        for column in columns:
            built = tag.render({"column": column})
            assert built == stock.render({"column": column})
            assert built.count('<li class="card">') == len(column["cases"])


def test_it_escapes_what_people_wrote(columns, people, web):
    page = web(people["chair"]).get("/board/").content.decode()
    assert "Late &lt;one&gt; &amp; &quot;quoted&quot;" in page and "Late <one>" not in page
    assert "Access &lt;denied&gt; &amp; &quot;blocked&quot;" in page
