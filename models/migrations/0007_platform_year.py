from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.broadcast_entities import BroadcastStatus
from models.evaluation_entities import Grade, RunStatus
from models.voucher_entities import VoucherStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0006_institutions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Broadcast',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('author', fields.ForeignKeyField('models.User', source_field='author_id', null=True, db_constraint=True, to_field='id', related_name='broadcasts', on_delete=OnDelete.SET_NULL)),
                ('text', fields.TextField(unique=False)),
                ('audience', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=BroadcastStatus.DRAFT, description='DRAFT: draft\nSENDING: sending\nDONE: done\nCANCELLED: cancelled', enum_type=BroadcastStatus, max_length=16)),
                ('recipients', fields.IntField(default=0)),
                ('progress_chat_id', fields.BigIntField(null=True)),
                ('progress_message_id', fields.BigIntField(null=True)),
                ('confirmed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'broadcasts', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One broadcast: its text, its audience, and where its live progress message is.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EvaluationRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('year', fields.SmallIntField(unique=True)),
                ('status', fields.CharEnumField(default=RunStatus.COMPUTED, description='COMPUTED: computed\nNOTICE: notice\nPUBLISHED: published', enum_type=RunStatus, max_length=16)),
                ('scheme', fields.CharField(max_length=16)),
                ('weights', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('computed_by', fields.ForeignKeyField('models.User', source_field='computed_by_id', null=True, db_constraint=True, to_field='id', related_name='evaluations_computed', on_delete=OnDelete.SET_NULL)),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('notice_ends_on', fields.DateField(null=True)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'evaluation_runs', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The evaluation of one year: the scheme and weights it used, and how far it has gone.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Evaluation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('run', fields.ForeignKeyField('models.EvaluationRun', source_field='run_id', db_constraint=True, to_field='id', related_name='results', on_delete=OnDelete.CASCADE)),
                ('year', fields.SmallIntField()),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='evaluations', on_delete=OnDelete.CASCADE)),
                ('indicators', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('score', fields.DecimalField(max_digits=5, decimal_places=2)),
                ('rank', fields.IntField()),
                ('grade', fields.CharEnumField(description='EXCELLENT: excellent\nGOOD: good\nQUALIFIED: qualified\nORDINARY: ordinary\nUNQUALIFIED: unqualified', enum_type=Grade, max_length=16)),
                ('stars', fields.SmallIntField()),
                ('flagged_for_removal', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'evaluations', 'app': 'models', 'unique_together': (('year', 'organization_id'),), 'pk_attr': 'id', 'table_description': 'The result of one institution in the evaluation of one year.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Voucher',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('engagement', fields.ForeignKeyField('models.Engagement', source_field='engagement_id', db_constraint=True, to_field='id', related_name='vouchers', on_delete=OnDelete.CASCADE)),
                ('enterprise', fields.ForeignKeyField('models.Organization', source_field='enterprise_id', db_constraint=True, to_field='id', related_name='vouchers_used', on_delete=OnDelete.CASCADE)),
                ('institution', fields.ForeignKeyField('models.Organization', source_field='institution_id', db_constraint=True, to_field='id', related_name='vouchers_served', on_delete=OnDelete.CASCADE)),
                ('year', fields.SmallIntField()),
                ('applicant', fields.ForeignKeyField('models.User', source_field='applicant_id', null=True, db_constraint=True, to_field='id', related_name='vouchers_applied', on_delete=OnDelete.SET_NULL)),
                ('purpose', fields.CharField(max_length=500)),
                ('amount_requested', fields.DecimalField(max_digits=14, decimal_places=2)),
                ('amount_granted', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('status', fields.CharEnumField(default=VoucherStatus.APPLIED, description='APPLIED: applied\nGRANTED: granted\nREFUSED: refused\nREDEEM_REQUESTED: redeem_requested\nREDEEMED: redeemed\nWITHDRAWN: withdrawn', enum_type=VoucherStatus, max_length=16)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='vouchers_decided', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(null=True, max_length=500)),
                ('redeem_requested_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('redeemed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('redeemed_on', fields.DateField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'vouchers', 'app': 'models', 'indexes': [Index(fields=['enterprise_id', 'year']), Index(fields=['institution_id', 'year']), Index(fields=['status'])], 'pk_attr': 'id', 'table_description': 'One innovation voucher for one engagement.'},
            bases=['Model'],
        ),
    ]
