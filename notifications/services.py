"""Writes of notifications: storing them (notify), marking them read, and a
person's email preferences.

Notifications are delivery, not decisions: they write no audit event (the
decision that caused one already did, in the same transaction).
"""

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import AutoField
from django.utils import timezone
from django.utils.translation import gettext as _

from config.db import array_cursor
from config.errors import Forbidden
from config.queue import enqueue_on_commit
from notifications.kinds import EMAIL_MODES, KINDS, OFF, default_email
from notifications.models import Notification, NotificationPreference
from notifications.tasks import send_notifications


def _email_modes(recipients, kind: str) -> dict[int, str]:
    chosen = dict(NotificationPreference.objects.filter(user__in=[u.pk for u in recipients], kind=kind)
                  .values_list("user_id", "email"))
    return {u.pk: chosen.get(u.pk, default_email(kind)) for u in recipients}


def notify(*, recipients, kind: str, key: str, params: dict | None = None, subject: str = "", body: str = "",
           case_id: int | None = None, case_reference: str = "", email_now: bool = True, once: bool = True) -> None:
    """Store one notification per recipient for `key`. The unique constraint
    (recipient, key) makes a repeat, such as a task run twice, insert nothing:
    one statement, no read before the write.

    The text is `kind` + `params`, rendered in the reader's language when read
    or emailed (notifications.kinds); subject/body are only for kinds not in
    the registry. Each row takes its recipient's email preference for the kind
    as it is stored: at once, in the daily digest, or not at all (stored as
    already emailed: nothing to send).

    email_now=True asks the mailer to run once the transaction commits. A
    caller that stores many in one run (the deadline sweep) passes False and
    emails them all at its end: one publish per notification would cost more
    than the work that caused it.

    once=False is for a person's own action (a report returned, answered),
    whose key is new by construction: a row already holding it is an error
    that rolls the whole action back, rather than a repeat to skip."""
    notify_many(notes=[{"recipients": recipients, "kind": kind, "key": key, "params": params, "subject": subject,
                        "body": body, "case_id": case_id, "case_reference": case_reference}],
                email_now=email_now, once=once)


def notify_many(*, notes: list[dict], email_now: bool = True, once: bool = True) -> int:
    """notify for many subjects at once (the deadline sweep settling a page
    of deadlines): each item holds notify's keyword arguments other than
    email_now and once (recipients, kind, key, and optionally params,
    subject, body, case_id, case_reference). The rows are the ones notify
    would store item by item; the preferences are read once per kind and the
    rows inserted with one INSERT ... ON CONFLICT DO NOTHING, instead of two
    statements per item. Returns how many rows were offered (a repeat of a
    stored key inserts nothing)."""
    # One recipient once per item, as notify has always done.
    recipients = [list({u.pk: u for u in note["recipients"]}.values()) for note in notes]
    people: dict[str, dict] = {}  # kind -> {user id: user}: one preference query per kind
    for note, told in zip(notes, recipients, strict=True):
        people.setdefault(note["kind"], {}).update({u.pk: u for u in told})
    modes = {kind: _email_modes(list(users.values()), kind) for kind, users in people.items() if users}
    now = timezone.now()
    rows = []
    for note, told in zip(notes, recipients, strict=True):
        chosen = modes.get(note["kind"], {})
        rows.extend(Notification(recipient=user, case_id=note.get("case_id"),
                                 case_reference=note.get("case_reference", ""), kind=note["kind"],
                                 key=note["key"][:120], params=note.get("params"),
                                 subject=note.get("subject", "")[:200], body=note.get("body", ""),
                                 email=chosen[user.pk], emailed_at=now if chosen[user.pk] == OFF else None)
                    for user in told)
    if not rows:
        return 0
    if once and len(rows) >= NOTIFY_UNNEST_ROWS and connection.vendor == "postgresql":
        _insert_unnest(rows, now=now)
    else:
        # batch_size: one INSERT of 1,000 rows stays far below PostgreSQL's
        # 65,535 parameters per statement whatever the number of chairs.
        Notification.objects.bulk_create(rows, ignore_conflicts=once, batch_size=1000)
    if email_now:
        enqueue_on_commit(send_notifications)
    return len(rows)


# From this many rows (a sweep's page), notify_many inserts with one array
# per column (_insert_unnest) instead of bulk_create's VALUES; the benchmark
# sets it out of reach to time the stock way (bench/deadlines.py --stock-notify).
NOTIFY_UNNEST_ROWS = 50


def _insert_unnest(rows: list[Notification], *, now) -> None:
    """INSERT ... SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING: the rows
    bulk_create(ignore_conflicts=True) would store, as a statement of a dozen
    parameters bound server-side in binary (config.db.array_cursor). With
    bulk_create's VALUES list, the driver splices 13 parameters a row into
    the statement's text in Python, which cost most of a sweep's page."""
    fields = [f for f in Notification._meta.local_concrete_fields if not isinstance(f, AutoField)]
    for row in rows:
        row.created_at = now  # auto_now_add, which pre_save would set
    table = connection.ops.quote_name(Notification._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    arrays = ", ".join(f"%b::{f.db_type(connection)}[]" for f in fields)
    json_fields = {f.attname for f in fields if f.get_internal_type() == "JSONField"}
    values = [[f.get_db_prep_save(getattr(row, f.attname), connection) if f.attname in json_fields
               else getattr(row, f.attname) for row in rows] for f in fields]
    with array_cursor() as cursor:
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) "  # noqa: S608 (names from the model)
                       "ON CONFLICT DO NOTHING", values)


def notification_mark_read(*, actor, notification: Notification) -> Notification:
    if notification.recipient_id != actor.pk:
        raise Forbidden(_("Not your notification."))
    if notification.read_at is None:
        # Conditional: the first of two concurrent reads wins, the second changes nothing.
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
        notification.refresh_from_db(fields=["read_at"])
    return notification


def notification_preferences_set(*, actor, email: dict[str, str]) -> None:
    """Set how the actor wants kinds emailed ({kind: immediate|digest|off});
    kinds not named keep their setting. All or nothing: one unknown kind or
    mode changes nothing. A preference applies to notifications stored from
    then on. A delivery setting of one's own, not a decision: not audited."""
    if not isinstance(email, dict):
        raise ValidationError({"email": [_("A mapping of kind to email mode.")]})
    errors = []
    for kind, mode in email.items():
        if kind not in KINDS:
            errors.append(_("Unknown kind: %(kind)s.") % {"kind": kind})
        elif mode not in EMAIL_MODES:
            errors.append(_("%(kind)s: must be one of %(choices)s.") % {"kind": kind,
                                                                         "choices": ", ".join(EMAIL_MODES)})
    if errors:
        raise ValidationError({"email": errors})
    with transaction.atomic():
        for kind, mode in email.items():
            NotificationPreference.objects.update_or_create(user=actor, kind=kind, defaults={"email": mode})
