"""The right of reply: when a case enters attribution, the parties named in
its reports are called to reply (through their representatives) within
DEADLINE_REPLY; each may reply once, with text and files. The reply window
holds back the attribution round (commission.selectors.reply_window_refusal)
until it ends or every called party has replied, unless the chair overrides
with a reason (commission.services.rounds.round_open)."""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.roles import PARTY_REPRESENTATIVE
from audit.services import audit_record
from commission.models import (
    Case,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    Reply,
    ReplyEvidence,
    ReplyNotice,
    reply_evidence_path,
)
from commission.selectors import (
    case_get_for_hearing,
    named_parties,
    reply_refusal,
    represented_party,
    waiting_parties,
)
from commission.services.base import chairs, locked_case, require
from commission.services.base import text as clean_text
from commission.services.deadlines import deadline_create, deadline_settle
from commission.services.notify import notify_about
from config.errors import Conflict
from reports.services import upload_inspect

MAX_REPLY_FILES = 10


def reply_window_open(case: Case, *, actor, now: datetime) -> Deadline | None:
    """Call the named parties to reply (the caller holds the case's lock,
    just moved to attribution). Parties without an active representative are
    recorded as not called: nobody could answer for them, so they hold
    nothing back. No window at all when no party can be called."""
    parties = list(named_parties(case))
    reps = {p.pk: list(User.objects.filter(represents=p, is_active=True, groups__name=PARTY_REPRESENTATIVE)
                       .distinct().order_by("id")) for p in parties}
    called = [p for p in parties if reps[p.pk]]
    if not called:
        if parties:
            audit_record(actor=actor, action="case.reply_window_skipped", object_type="case", object_id=case.pk,
                         after={"named": [p.code for p in parties], "called": []})
        return None
    ReplyNotice.objects.bulk_create([ReplyNotice(case=case, party=p) for p in called])
    due_at = now + settings.DEADLINE_REPLY
    audit_record(actor=actor, action="case.reply_window_opened", object_type="case", object_id=case.pk,
                 after={"named": [p.code for p in parties], "called": [p.code for p in called],
                        "notified": sorted(u.username for p in called for u in reps[p.pk]), "due_at": due_at.isoformat()})
    deadline = deadline_create(case=case, kind=DeadlineKind.REPLY, due_at=due_at, actor=actor)
    for party in called:
        notify_about(case, recipients=reps[party.pk], kind="reply_requested", key=f"reply:{case.pk}:{party.code}",
                     params={"party": party.code, "party_name": party.name, "due_at": due_at.isoformat()})
    return deadline


def reply_submit(*, actor, case: Case, text: str, files=()) -> Reply:
    """A representative's one reply for their party: text and evidence
    files (the reports' evidence rules: size limit, types by content,
    stored under their SHA-256). Audited as case.reply_submitted. When it is
    the last called party's reply, the window closes early (met) and the
    chair is told the round may open."""
    require(actor, PARTY_REPRESENTATIVE, what=gettext_noop("reply on behalf of a party"))
    body = clean_text(text, field="text")
    files = list(files)
    if len(files) > MAX_REPLY_FILES:
        raise ValidationError({"files": [_("At most %(n)d files.") % {"n": MAX_REPLY_FILES}]})
    # Checked before anything is stored: a bad file refuses the whole reply.
    inspected = [(upload, *upload_inspect(upload)) for upload in files]
    party = represented_party(actor)
    stored_now: list[str] = []
    try:
        with transaction.atomic():
            case = locked_case(case.pk)
            if case_get_for_hearing(actor, case.pk) is None:
                raise Conflict(_("Your party is not named in this case."), code="not_named")
            now = timezone.now()
            refusal = reply_refusal(case, party, now=now)
            if refusal is not None:
                raise refusal
            try:
                with transaction.atomic():
                    reply = Reply.objects.create(case=case, party=party, author=actor, text=body)
            except IntegrityError:
                raise Conflict(_("Your party has already replied on this case."), code="already_replied")
            evidence = []
            for upload, sha256, size, mime in inspected:
                item = ReplyEvidence(reply=reply, content_type=mime, size=size, sha256=sha256,
                                     original_name=(getattr(upload, "name", "") or "")[:255])
                name = reply_evidence_path(item, "")
                if not default_storage.exists(name):
                    upload.seek(0)
                    name = default_storage.save(name, upload)
                    stored_now.append(name)
                item.file.name = name
                item.save()
                evidence.append({"sha256": sha256, "size": size, "content_type": mime})
            audit_record(actor=actor, action="case.reply_submitted", object_type="case", object_id=case.pk,
                         after={"case": case.reference, "reply": reply.pk, "party": party.code,
                                "author": actor.username, "text": body, "evidence": evidence})
            if not waiting_parties(case).exists():
                window = Deadline.objects.select_for_update().get(case=case, kind=DeadlineKind.REPLY)
                deadline_settle(window, case=case, status=DeadlineStatus.MET, actor=actor, now=now)
                notify_about(case, recipients=chairs(), kind="replies_complete", key=f"replies-complete:{case.pk}",
                             params={})
    except Exception:
        # Nothing half-stored: files no row points to go away again.
        for name in stored_now:
            if not ReplyEvidence.objects.filter(file=name).exists():
                default_storage.delete(name)
        raise
    return reply


def reply_evidence_open_for_download(*, actor, evidence: ReplyEvidence):
    """Open a reply's file for `actor` (who may read the reply: the
    selectors decided) and record the read, as for reports' evidence."""
    handle = evidence.file.storage.open(evidence.file.name, "rb")
    try:
        with transaction.atomic():
            audit_record(actor=actor, action="reply_evidence.downloaded", object_type="case",
                         object_id=evidence.reply.case_id,
                         after={"reply": evidence.reply_id, "evidence": evidence.pk, "sha256": evidence.sha256})
    except Exception:
        handle.close()
        raise
    return handle


def reply_evidence_download_name(evidence: ReplyEvidence) -> str:
    from reports.services import EVIDENCE_TYPES

    ext = EVIDENCE_TYPES.get(evidence.content_type, "bin")
    return f"{evidence.reply.case.reference}-reply-{evidence.sha256[:12]}.{ext}"
