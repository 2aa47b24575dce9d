"""The case's discussion: comments by the commission's roles, audited like
every other act (the trail certifies what was said before a vote)."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.roles import CHAIR, MEMBER, VERIFIER
from audit.services import audit_record
from commission.models import Case, Comment
from commission.selectors import can_post_comment, mentioned_readers
from commission.services.base import locked_case, require, text
from commission.services.notify import notify_about
from config.errors import Forbidden

# Long enough for an argued position; a document belongs in a report's evidence.
COMMENT_MAX = 4000


def comment_post(*, actor, case: Case, body: str, parent: Comment | int | None = None) -> Comment:
    """Add a comment to the case's discussion, in reply to `parent` (a
    comment of the same case) or not. The parent's author is told of the
    reply, and each reader named as @username of the mention. Never edited
    afterwards: a correction is a new comment."""
    require(actor, VERIFIER, CHAIR, MEMBER, what=gettext_noop("take part in the case's discussion"))
    if not can_post_comment(actor):
        # A party representative never reads the deliberation, whatever else they hold.
        raise Forbidden(_("Your role does not allow you to %(what)s.")
                        % {"what": _("take part in the case's discussion")})
    body = text(body, field="body", max_length=COMMENT_MAX)
    with transaction.atomic():
        # The case's lock orders comments with the case's other changes, so
        # the trail's order is the thread's.
        case = locked_case(case.pk)
        parent_comment = None
        if parent is not None:
            parent_id = parent.pk if isinstance(parent, Comment) else parent
            parent_comment = Comment.objects.select_related("author").filter(pk=parent_id, case=case).first()
            if parent_comment is None:
                raise ValidationError({"parent": [_("No such comment in this case's discussion.")]})
        mentioned = mentioned_readers(body, exclude=[actor])
        comment = Comment.objects.create(case=case, author=actor, body=body, parent=parent_comment)
        comment.mentions.set(mentioned)
        audit_record(actor=actor, action="case.comment_posted", object_type="case", object_id=case.pk,
                     after={"case": case.reference, "comment": comment.pk, "body": body,
                            "parent": parent_comment.pk if parent_comment else None,
                            "mentions": [u.username for u in mentioned]})
        replied_to = None
        if parent_comment is not None and parent_comment.author_id != actor.pk:
            replied_to = parent_comment.author
            notify_about(case, recipients=[replied_to], kind="comment_reply", key=f"comment:{comment.pk}:reply",
                         params={"author": actor.username, "excerpt": body[:500]})
        others = [u for u in mentioned if replied_to is None or u.pk != replied_to.pk]
        notify_about(case, recipients=others, kind="comment_mention", key=f"comment:{comment.pk}:mention",
                     params={"author": actor.username, "excerpt": body[:500]})
    return comment
