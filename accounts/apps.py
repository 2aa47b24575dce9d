from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_role_groups(sender, using, **kwargs):
    # After every migrate (and every test database flush, which re-runs
    # post_migrate): auth has created the models' permissions by then, since
    # it handles each app's post_migrate before ours (INSTALLED_APPS order).
    from accounts.roles import role_groups_sync

    role_groups_sync()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "People and roles"

    def ready(self):
        post_migrate.connect(_sync_role_groups, sender=self, dispatch_uid="accounts.sync_role_groups")
        from accounts import signals

        signals.connect()
