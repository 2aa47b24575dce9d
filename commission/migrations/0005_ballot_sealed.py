"""Ballots sealed at rest: choice, rationale and salt move into one value
sealed with BALLOT_SEALING_KEY (commission/sealing.py). Existing rows are
sealed here, with the key configured when the migration runs."""

from django.db import migrations, models


def seal_existing(apps, schema_editor):
    from commission.sealing import seal

    Ballot = apps.get_model("commission", "Ballot")
    for ballot in Ballot.objects.all().iterator():
        ballot.sealed = seal(choice=ballot.choice, rationale=ballot.rationale, salt=ballot.salt)
        ballot.save(update_fields=["sealed"])


def open_existing(apps, schema_editor):
    from commission.sealing import unseal

    Ballot = apps.get_model("commission", "Ballot")
    for ballot in Ballot.objects.all().iterator():
        opened = unseal(ballot.sealed)
        if opened is None:
            raise RuntimeError(f"ballot {ballot.pk} does not open with this BALLOT_SEALING_KEY")
        ballot.choice, ballot.rationale, ballot.salt = opened.choice, opened.rationale, opened.salt
        ballot.save(update_fields=["choice", "rationale", "salt"])


class Migration(migrations.Migration):

    dependencies = [
        ("commission", "0004_round_held"),
    ]

    operations = [
        migrations.AddField(model_name="ballot", name="sealed", field=models.TextField(default=""),
                            preserve_default=False),
        migrations.AlterField(model_name="ballot", name="choice", field=models.CharField(max_length=16, default="")),
        migrations.AlterField(model_name="ballot", name="rationale", field=models.TextField(default="")),
        migrations.AlterField(model_name="ballot", name="salt", field=models.CharField(max_length=64, default="")),
        migrations.RunPython(seal_existing, open_existing),
        migrations.RemoveField(model_name="ballot", name="choice"),
        migrations.RemoveField(model_name="ballot", name="rationale"),
        migrations.RemoveField(model_name="ballot", name="salt"),
    ]
