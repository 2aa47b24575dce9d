"""The trail's events are built by web.trail_events, not by a {% for %} in
web/_events.html (BENCHMARKS.md, "The trail's events"). They must be the very
bytes the template's loop rendered, in every language and time zone, for
every kind of event: sealed and being sealed, by a person and by the system,
with and without a reason, a creation, a change, a removal, one with no data,
an action with words and one without, and text that needs escaping."""

import pytest
from django.db import transaction
from django.template import engines
from django.utils import timezone, translation

from audit.models import AuditEvent
from audit.services import audit_record, trail_seal
from web.trail_diff import event_diff
from web.trail_events import diff_rows

pytestmark = pytest.mark.django_db

# The loop web.trail_events replaced, as it was in web/_events.html (its words
# line is unchanged there), with the loop over the diff rows that its
# diff_rows replaced before it: the stock way to compare with.
WORDS = ('{% load i18n web %}{% translate "(not there)" as not_there %}{% translate "added" as added %}'
         '{% translate "removed" as removed %}{% translate "Action id, as stored in the trail" as action_id %}'
         '{% translate "being sealed" as being_sealed %}{% translate "the system" as the_system %}'
         '{% translate "Reason" as reason %}{% translate "Field" as field %}{% translate "Before" as before %}'
         '{% translate "After" as after %}{% translate "Stored data (JSON)" as stored %}')
STOCK = WORDS + """<ol class="timeline">{% for e in events %}<li data-action="{{ e.action }}">
  <p><strong>{{ e.action|action_label }}</strong> <small class="mono muted" title="{{ action_id }}">{{ e.action }}</small> · <span class="mono">{{ e.object_type }}:{{ e.object_id }}</span>
  {% if e.seq %}<span class="muted">#{{ e.seq }}</span>{% else %}<span class="badge warn">{{ being_sealed }}</span>{% endif %}</p>
  <p class="muted"><time datetime="{{ e.at|date:"c" }}">{{ e.at|date:"Y-m-d H:i:s" }} UTC</time> · {% if e.actor_username %}{{ e.actor_username }}{% else %}{{ the_system }}{% endif %}</p>
  {% if e.reason %}<p class="prewrap">{{ reason }}: {{ e.reason }}</p>{% endif %}
  {% with rows=e|event_diff %}{% if rows %}<div class="table-wrap"><table class="diff">
    <thead><tr><th scope="col">{{ field }}</th><th scope="col">{{ before }}</th><th scope="col">{{ after }}</th></tr></thead>
    <tbody>{% for r in rows %}<tr class="diff-{{ r.change }}">
      <th scope="row" class="mono">{{ r.field }}</th>
      <td>{% if r.change == "added" %}<span class="muted">{{ not_there }}</span>{% else %}<del>{{ r.before }}</del>{% if r.change == "removed" %} <span class="badge bad">{{ removed }}</span>{% endif %}{% endif %}</td>
      <td>{% if r.change == "removed" %}<span class="muted">{{ not_there }}</span>{% else %}<ins>{{ r.after }}</ins>{% if r.change == "added" %} <span class="badge ok">{{ added }}</span>{% endif %}{% endif %}</td>
    </tr>{% endfor %}</tbody></table></div>{% endif %}{% endwith %}
  {% if e.before is not None or e.after is not None %}<details><summary>{{ stored }}</summary>
    {% if e.before is not None %}<p>{{ before }}</p><pre>{{ e.before|pretty_json }}</pre>{% endif %}
    {% if e.after is not None %}<p>{{ after }}</p><pre>{{ e.after|pretty_json }}</pre>{% endif %}
  </details>{% endif %}
</li>
{% endfor %}</ol>"""  # noqa: E501
TAG = '{% include "web/_events.html" %}'


@pytest.fixture
def events(people):
    """One event of each kind, some sealed and some still being sealed."""

    def write(actor, **event):
        with transaction.atomic():
            audit_record(actor=actor, **event)

    write(people["chair"], action="measure.adopted", object_type="measure", object_id=7,
          before={"status": "proposed", "gone": "<i>x</i>", "same": 1, "a&b": ["q\"uote", "l<t"]},
          after={"status": "adopted", "new": {"deep": "'single'"}, "same": 1, "a&b": []},
          reason="Adopted <unanimously> & \"at once\"\nsecond line")
    write(None, action="deadline.missed", object_type="deadline", object_id="12", before={"met": None},
          after={"met": False})
    write(people["verifier"], action="report.submitted", object_type="report", object_id=3,
          after={"category": "shelling", "location": {"lat": 48.01, "lon": 37.8}, "weapons": ["mortar", "tank"]})
    write(people["chair"], action="case.reopened", object_type="case", object_id=5, before={"stage": "closed"})
    trail_seal(blocking=True)
    # After the seal: no seq yet ("being sealed"), one with no data, one whose action has no words.
    write(people["auditor"], action="trail.checkpoint", object_type="trail", object_id="<head>")
    write(None, action="test.unknown_<action>", object_type="x&y", object_id="1", after={"n": 1, "t": True},
          reason="r")
    found = list(AuditEvent.objects.order_by("-id"))
    assert {e.seq is None for e in found} == {True, False}
    return found


@pytest.mark.parametrize("language", ["en", "fr", "uk"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Kyiv"])
def test_the_events_are_the_bytes_the_templates_loop_rendered(events, language, zone):
    stock, tag = engines["django"].from_string(STOCK), engines["django"].from_string(TAG)
    with translation.override(language), timezone.override(zone):
        expected = stock.render({"events": events})
        built = tag.render({"events": events})
    assert "<del>" in built and "<ins>" in built
    assert built == expected
    assert built.count("<li data-action=") == len(events)


def test_it_escapes_what_people_wrote(events):
    built = engines["django"].from_string(TAG).render({"events": events})
    assert "&lt;unanimously&gt; &amp; &quot;at once&quot;" in built
    assert "<unanimously>" not in built and "<head>" not in built and "test.unknown_&lt;action&gt;" in built


def test_diff_rows_are_the_bytes_of_the_templates_loop_with_any_words():
    # Words that need escaping too (a translation could hold "&" or a quote).
    from django.template import Context, Template

    loop = Template(STOCK[STOCK.index("{% for r in rows %}"):STOCK.index("{% endfor %}</tbody>") + len("{% endfor %}")])
    rows = event_diff({"status": "proposed", "gone": "<i>x</i>", "same": 1, "a&b": ["q\"uote", "l<t"]},
                      {"status": "adopted", "new": {"deep": "'single'"}, "same": 1, "a&b": []})
    assert {r["change"] for r in rows} == {"added", "removed", "changed"}
    for words in ({"not_there": "(not there)", "added": "added", "removed": "removed"},
                  {"not_there": "<absent>", "added": "a & b", "removed": "r\"e"}):
        assert diff_rows(rows, **words) == loop.render(Context({"rows": rows, **words}))
