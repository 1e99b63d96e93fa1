from django.db import migrations, models
from django.db.models import Exists, OuterRef


def mark_friends(apps, schema_editor):
    Follow = apps.get_model("accounts", "Follow")
    back = Follow.objects.filter(follower=OuterRef("followee"), followee=OuterRef("follower"))
    Follow.objects.filter(Exists(back)).update(mutual=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_account_birthday_type"),
    ]

    operations = [
        migrations.AddField(
            model_name="follow",
            name="mutual",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_friends, migrations.RunPython.noop, elidable=True),
    ]
