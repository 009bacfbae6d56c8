from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.runtime_entities import InboxState
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_reminders')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InboxUpdate',
            fields=[
                ('update_id', fields.BigIntField(primary_key=True, unique=True, db_index=True)),
                ('chat_id', fields.BigIntField(null=True)),
                ('payload', fields.JSONField(encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('state', fields.CharEnumField(default=InboxState.PENDING, description='PENDING: pending\nPROCESSING: processing\nDONE: done', enum_type=InboxState, max_length=16)),
                ('claimed_by', fields.CharField(null=True, max_length=32)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('processed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'inbox_updates', 'app': 'models', 'indexes': [Index(fields=['state', 'chat_id'])], 'pk_attr': 'update_id', 'table_description': 'An update Telegram posted to the webhook, stored before it is acknowledged.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SharedSetting',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('value', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'shared_settings', 'app': 'models', 'pk_attr': 'key', 'table_description': 'A value every worker process must agree on, such as the generated webhook secret.'},
            bases=['Model'],
        ),
    ]
