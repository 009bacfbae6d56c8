from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0007_platform_year')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Broadcast',
            name='progress_shown',
            field=fields.CharField(default='', max_length=32),
        ),
    ]
