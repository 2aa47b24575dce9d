from django.apps import AppConfig


class CommissionConfig(AppConfig):
    name = "commission"
    verbose_name = "Commission"

    def ready(self):
        # The trail knows no app above it; auditors filter it by case, and
        # only this app knows which events a case's are (audit/scopes.py).
        from audit.scopes import case_scope_register
        from commission.selectors import case_object_refs_by_reference

        case_scope_register(case_object_refs_by_reference)
