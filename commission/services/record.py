"""Before a decision record is shown: make what it cites checkable.

Reading the record writes no audit event, on purpose: it is the case page's
content for the case page's readers (not audited either), and an event on the
case would move the very trail head the document cites, so two copies of
one decision would carry different hashes. (Evidence downloads are audited:
they hand out confidential files; the record holds none.)
"""

from django.conf import settings

from audit.services import checkpoint_publish, trail_seal
from commission.models import Case
from commission.selectors.record import case_trail_head, checkpoint_covering


def case_record_prepare(*, actor, case: Case) -> None:
    """Seal the case's pending events, so its head has a seq and a hash,
    and, when no signed checkpoint covers that head yet, sign one now (when
    a signing key is configured): the document can then name the signed
    tree head a reader checks it against. Publishing is idempotent and
    writes no event (audit.services.checkpoint_publish), so a reload signs
    nothing twice. Without a key the record says it is not yet covered."""
    trail_seal(blocking=True)
    head = case_trail_head(case)
    if head is None or checkpoint_covering(head.seq) is not None or not settings.AUDIT_SIGNING_KEY:
        return
    checkpoint_publish(actor=actor)
