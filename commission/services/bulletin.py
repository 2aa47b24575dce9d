"""Publishing the public bulletin, and marking a case's summary public.

A bulletin is made in three steps: sign a checkpoint of the trail's head
(audit.services.checkpoint_publish), count the period (commission.selectors
.bulletin_content), and store both with the trail's bulletin.published event
in one transaction. The tree head is signed before the counts are read, so the
bulletin says "the trail was at least this when I was made": anyone can later
ask for a consistency proof from it to a newer head and see that the trail
behind the bulletin was only appended to.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.roles import CHAIR
from audit.selectors import checkpoint_dict
from audit.services import audit_record, checkpoint_publish
from commission.models import Bulletin, Case, Stage
from commission.selectors.bulletin import (
    bulletin_content,
    bulletin_period,
    content_sha256,
    on_demand_period,
    scheduled_period,
)
from commission.services.base import locked_case, require
from config.errors import Conflict

logger = logging.getLogger(__name__)


def bulletin_publish(*, actor=None, on_demand: bool = False, now: datetime | None = None) -> tuple[Bulletin, bool]:
    """Publish the bulletin of a period; (bulletin, created).

    Scheduled (actor None, beat): the last whole BULLETIN_PERIOD that ended
    BULLETIN_DELAY ago. On demand (the chair): from the end of the latest
    bulletin up to now - BULLETIN_DELAY. Either way a period already
    published is returned as it is (created False): one bulletin per period,
    however often beat ticks or the chair clicks.

    Raises CheckpointsDisabled (503) without AUDIT_SIGNING_KEY: a bulletin
    without a signed tree head would ask the public to take it on trust.
    """
    if on_demand or actor is not None:
        require(actor, CHAIR, what=gettext_noop("publish bulletins"))
    now = now or timezone.now()
    period, delay = settings.BULLETIN_PERIOD, settings.BULLETIN_DELAY
    if on_demand:
        start, end = on_demand_period(now=now, period=period, delay=delay)
    else:
        start, end = scheduled_period(now=now, period=period, delay=delay)
    if start >= end:
        # Nothing has passed its delay since the latest bulletin: that one stands.
        return Bulletin.objects.filter(period_end=start).order_by("-id").first(), False
    existing = bulletin_period(start=start, end=end)
    if existing is not None:
        return existing, False

    checkpoint = checkpoint_publish(actor=actor)
    tree_head = checkpoint_dict(checkpoint) if checkpoint is not None else None
    content = bulletin_content(start=start, end=end, grid_km=settings.BULLETIN_GRID_KM)
    try:
        with transaction.atomic():
            bulletin = Bulletin.objects.create(period_start=start, period_end=end, published_at=timezone.now(),
                                               published_by=actor, on_demand=on_demand, content=content,
                                               tree_head=tree_head)
            audit_record(actor=actor, action="bulletin.published", object_type="bulletin", object_id=bulletin.pk,
                         after={"period_start": content["period"]["start"], "period_end": content["period"]["end"],
                                "on_demand": on_demand, "content_sha256": content_sha256(content),
                                "tree_head": tree_head})
    except IntegrityError:
        # Two publishers raced for the same period (beat twice, or beat and a
        # chair): the unique period let one in; the other answers with it.
        existing = bulletin_period(start=start, end=end)
        if existing is None:
            raise
        return existing, False
    logger.info("published bulletin %s (%s to %s)", bulletin.pk, start, end)
    return bulletin, True


# How far back beat catches up after it (or every worker) was down.
CATCH_UP_PERIODS = 7


def bulletins_publish_due(*, now: datetime | None = None) -> list[Bulletin]:
    """Beat's tick: publish every scheduled period that is past its delay and
    has no bulletin yet, oldest first, going back at most CATCH_UP_PERIODS
    (so days missed while beat was down still get their bulletin). Returns
    the bulletins published now (none on most ticks)."""
    now = now or timezone.now()
    period, delay = settings.BULLETIN_PERIOD, settings.BULLETIN_DELAY
    _start, end = scheduled_period(now=now, period=period, delay=delay)
    missing = []
    for back in range(CATCH_UP_PERIODS):
        period_end = end - back * period
        if bulletin_period(start=period_end - period, end=period_end) is not None:
            break
        missing.append(period_end)
    published = []
    for period_end in reversed(missing):
        # As if asked just when this period's delay ran out.
        bulletin, created = bulletin_publish(now=period_end + delay)
        if created:
            published.append(bulletin)
    return published


def case_summary_publish(*, actor, case: Case, public: bool = True) -> Case:
    """The chair marks a closed case's summary public (bulletins from the
    period of the mark print it), or withdraws the mark (bulletins published
    meanwhile keep it: they are immutable)."""
    require(actor, CHAIR, what=gettext_noop("publish case summaries"))
    now = timezone.now()
    with transaction.atomic():
        case = locked_case(case.pk)
        if case.stage != Stage.CLOSED or not case.summary:
            raise Conflict(_("Only the summary of a closed case can be made public."))
        if (case.summary_public_at is not None) == public:
            return case
        before = {"summary_public": case.summary_public_at is not None}
        case.summary_public_at = now if public else None
        case.save(update_fields=["summary_public_at"])
        audit_record(actor=actor, action="case.summary_public" if public else "case.summary_withdrawn",
                     object_type="case", object_id=case.pk, before=before,
                     after={"summary_public": public, "summary": case.summary if public else None})
    return case
