from django.apps import AppConfig


class CommissionConfig(AppConfig):
    name = "commission"
    verbose_name = "Commission"

    def ready(self):
        # The trail knows no app above it; auditors filter it by case, and
        # only this app knows which events a case's are (audit/scopes.py).
        from audit.checks import trail_check_register
        from audit.scopes import case_scope_register
        from commission import trail_checks
        from commission.selectors import case_object_refs_by_reference

        case_scope_register(case_object_refs_by_reference)
        # ... and the trail's verification checks ballots, recounts and
        # eligibility the way the auditor's script does (commission/trail_checks.py).
        trail_check_register("ballots", trail_checks.ballots_check,
                             actions=(*trail_checks.BALLOT_EVENTS, "round.tallied"))
        trail_check_register("eligibility", trail_checks.eligibility_check, actions=trail_checks.AUTHORITY_EVENTS)
