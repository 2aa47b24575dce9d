"""Writes of the commission's workflow, one module per sub-domain.

Every change has the same shape: lock the row it changes
(select_for_update), check the current state (the same predicates that
commission.selectors.case_actions asks, so pages and API offer only what will
be accepted), change it, write the audit event in the same transaction, and
enqueue follow-up work on commit. The lock on the case (or on the round, for
ballots) serialises two people acting on the same thing at once; the check
after the lock makes the loser's request a clean 409 instead of a double effect.
"""

from commission.services.base import TEXT_MAX, TITLE_MAX
from commission.services.bulletin import bulletin_publish, bulletins_publish_due, case_summary_publish
from commission.services.closure import case_close
from commission.services.comments import COMMENT_MAX, comment_post
from commission.services.conflicts import conflict_declare
from commission.services.deadlines import deadline_extend, deadline_pause, deadline_resume
from commission.services.measures import measure_compliance_record, measure_decide, measure_propose
from commission.services.record import case_record_prepare
from commission.services.reminders import deadline_remind, deadlines_remind_page
from commission.services.replies import (
    MAX_REPLY_FILES,
    reply_evidence_download_name,
    reply_evidence_open_for_download,
    reply_submit,
    reply_window_open,
)
from commission.services.rounds import (
    BallotReceipt,
    ballot_cast,
    commitment,
    round_close_due,
    round_open,
)
from commission.services.sweep import (
    SweepResult,
    deadline_fire,
    deadlines_fire_page,
    deadlines_sweep,
)
from commission.services.triage import (
    MAX_REPORTS_PER_REQUEST,
    case_detach_report,
    case_link_reports,
    case_open,
    report_return,
    report_return_many,
)
from commission.services.verification import verification_record

__all__ = [
    "COMMENT_MAX",
    "comment_post",
    "MAX_REPLY_FILES",
    "reply_evidence_download_name",
    "reply_evidence_open_for_download",
    "reply_submit",
    "reply_window_open",
    "MAX_REPORTS_PER_REQUEST",
    "TEXT_MAX",
    "TITLE_MAX",
    "BallotReceipt",
    "SweepResult",
    "ballot_cast",
    "bulletin_publish",
    "bulletins_publish_due",
    "case_close",
    "case_detach_report",
    "case_link_reports",
    "case_summary_publish",
    "case_open",
    "case_record_prepare",
    "commitment",
    "conflict_declare",
    "deadline_extend",
    "deadline_fire",
    "deadline_pause",
    "deadline_resume",
    "deadline_remind",
    "deadlines_fire_page",
    "deadlines_remind_page",
    "deadlines_sweep",
    "measure_compliance_record",
    "measure_decide",
    "measure_propose",
    "report_return",
    "report_return_many",
    "round_close_due",
    "round_open",
    "verification_record",
]
