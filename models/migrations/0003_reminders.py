from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.reminder_entities import DeliveryState, ReportKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0002_demands')]

    initial = False

    operations = [
        ops.CreateModel(
            name='MeetingRsvp',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('meeting', fields.DateField()),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='rsvps', on_delete=OnDelete.CASCADE)),
                ('attending', fields.BooleanField()),
                ('answered_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'meeting_rsvps', 'app': 'models', 'unique_together': (('meeting', 'user'),), 'pk_attr': 'id', 'table_description': 'An answer to the invitation to a quarterly service meeting (Keqiao 4(5)).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReminderDelivery',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('rule', fields.CharField(max_length=32)),
                ('recipient_id', fields.BigIntField()),
                ('occurrence', fields.CharField(max_length=64)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('state', fields.CharEnumField(default=DeliveryState.PENDING, description='PENDING: pending\nCLAIMED: claimed\nSENT: sent\nRETRY: retry\nFAILED: failed\nUNREACHABLE: unreachable\nSKIPPED: skipped', enum_type=DeliveryState, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('claimed_by', fields.CharField(null=True, max_length=32)),
                ('lease_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('error', fields.CharField(null=True, max_length=200)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'reminder_deliveries', 'app': 'models', 'unique_together': (('rule', 'recipient_id', 'occurrence'),), 'indexes': [Index(fields=['state', 'lease_until']), Index(fields=['rule', 'occurrence'])], 'pk_attr': 'id', 'table_description': 'One reminder (rule, recipient, occurrence), claimed in the database before it is sent.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Report',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='ANNUAL: annual\nFILING: filing', enum_type=ReportKind, max_length=16)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.RESTRICT)),
                ('period', fields.CharField(max_length=24)),
                ('file_id', fields.CharField(max_length=255)),
                ('file_name', fields.CharField(default='', max_length=255)),
                ('sha256', fields.CharField(max_length=64)),
                ('submitted_by', fields.ForeignKeyField('models.User', source_field='submitted_by_id', db_constraint=True, to_field='id', related_name='reports', on_delete=OnDelete.RESTRICT)),
                ('submitted_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'reports', 'app': 'models', 'unique_together': (('kind', 'organization', 'period'),), 'pk_attr': 'id', 'table_description': 'A report document an institution submitted, which stops its reminders.'},
            bases=['Model'],
        ),
    ]
