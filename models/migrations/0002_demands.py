from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.demand_entities import ComplaintStatus, DemandStatus, IntentStatus, Outcome
from models.entities import ReviewStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint


class RemoveInlineUnique(ops.RemoveConstraint):
    """Drop 0001's unique_together of reviews, which SQLite holds as an inline UNIQUE.

    Tortoise's SQLite editor drops it with DROP INDEX by a generated name, but 0001 created
    it inline in CREATE TABLE (an unnamed autoindex): there is no such index. On SQLite the
    AlterField that follows rebuilds the table from the state, which no longer has it.
    """

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Demand',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('owner', fields.ForeignKeyField('models.Organization', source_field='owner_id', db_constraint=True, to_field='id', related_name='demands', on_delete=OnDelete.RESTRICT)),
                ('submitted_by', fields.ForeignKeyField('models.User', source_field='submitted_by_id', db_constraint=True, to_field='id', related_name='submitted_demands', on_delete=OnDelete.RESTRICT)),
                ('title', fields.CharField(max_length=60)),
                ('category', fields.CharField(max_length=24)),
                ('description', fields.TextField(unique=False)),
                ('budget', fields.CharField(max_length=16)),
                ('wanted_by', fields.DateField()),
                ('township', fields.CharField(max_length=24)),
                ('attachments', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=DemandStatus.SUBMITTED, description='SUBMITTED: submitted\nREJECTED: rejected\nPUBLISHED: published\nMATCHED: matched\nCONTRACTED: contracted\nDELIVERED: delivered\nDISPUTED: disputed\nCOMPLETED: completed\nEXPIRED: expired\nWITHDRAWN: withdrawn', enum_type=DemandStatus, max_length=16)),
                ('matched_institution', fields.ForeignKeyField('models.Organization', source_field='matched_institution_id', null=True, db_constraint=True, to_field='id', related_name='matched_demands', on_delete=OnDelete.RESTRICT)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'demands', 'app': 'models', 'indexes': [Index(fields=['status', 'category']), Index(fields=['township', 'status'])], 'pk_attr': 'id', 'table_description': 'A technical need of an enterprise, from submission to completion.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Complaint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('complainant', fields.ForeignKeyField('models.User', source_field='complainant_id', db_constraint=True, to_field='id', related_name='complaints', on_delete=OnDelete.RESTRICT)),
                ('institution', fields.ForeignKeyField('models.Organization', source_field='institution_id', db_constraint=True, to_field='id', related_name='complaints', on_delete=OnDelete.RESTRICT)),
                ('demand', fields.ForeignKeyField('models.Demand', source_field='demand_id', null=True, db_constraint=True, to_field='id', related_name='complaints', on_delete=OnDelete.SET_NULL)),
                ('text', fields.CharField(max_length=1000)),
                ('status', fields.CharEnumField(default=ComplaintStatus.OPEN, description='OPEN: open\nUPHELD: upheld\nDISMISSED: dismissed', enum_type=ComplaintStatus, max_length=16)),
                ('decided_by_id', fields.BigIntField(null=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'complaints', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A complaint about an institution (Jiangsu art. 31), decided by an admin.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Engagement',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('demand', fields.OneToOneField('models.Demand', source_field='demand_id', db_constraint=True, to_field='id', related_name='engagement', on_delete=OnDelete.CASCADE)),
                ('institution', fields.ForeignKeyField('models.Organization', source_field='institution_id', db_constraint=True, to_field='id', related_name='engagements', on_delete=OnDelete.RESTRICT)),
                ('contract_file_id', fields.CharField(null=True, max_length=200)),
                ('contract_sha256', fields.CharField(null=True, max_length=64)),
                ('contract_kind', fields.CharField(null=True, max_length=8)),
                ('amount', fields.DecimalField(null=True, max_digits=14, decimal_places=2)),
                ('signed_on', fields.DateField(null=True)),
                ('voucher', fields.BooleanField(default=False)),
                ('filing_due', fields.DateField(null=True)),
                ('filed_by_id', fields.BigIntField(null=True)),
                ('filed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('delivered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'engagements', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A demand matched with an institution, with its filed contract and delivery.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Feedback',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('engagement', fields.OneToOneField('models.Engagement', source_field='engagement_id', db_constraint=True, to_field='id', related_name='feedback', on_delete=OnDelete.CASCADE)),
                ('user_id', fields.BigIntField()),
                ('overall', fields.SmallIntField()),
                ('quality', fields.SmallIntField()),
                ('timeliness', fields.SmallIntField()),
                ('professionalism', fields.SmallIntField()),
                ('outcome', fields.CharEnumField(description='SOLVED: solved\nPARTLY: partly\nNOT_SOLVED: not_solved', enum_type=Outcome, max_length=16)),
                ('comment', fields.CharField(null=True, max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'feedback', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The owner rating of a completed engagement (Rugao art. 12(4)).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Intent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('demand', fields.ForeignKeyField('models.Demand', source_field='demand_id', db_constraint=True, to_field='id', related_name='intents', on_delete=OnDelete.CASCADE)),
                ('institution', fields.ForeignKeyField('models.Organization', source_field='institution_id', db_constraint=True, to_field='id', related_name='intents', on_delete=OnDelete.RESTRICT)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='intents', on_delete=OnDelete.RESTRICT)),
                ('proposal', fields.CharField(max_length=500)),
                ('quote', fields.DecimalField(null=True, max_digits=12, decimal_places=2)),
                ('status', fields.CharEnumField(default=IntentStatus.PENDING, description='PENDING: pending\nACCEPTED: accepted\nDECLINED: declined\nCLOSED: closed', enum_type=IntentStatus, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'intents', 'app': 'models', 'unique_together': (('demand', 'institution'),), 'pk_attr': 'id', 'table_description': 'An offer of help by an institution on a published demand (one per institution).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Invite',
            name='township',
            field=fields.CharField(null=True, max_length=24),
        ),
        RemoveInlineUnique(
            model_name='Review',
            name=None,
            fields=['subject_type', 'subject_id', 'stage'],
        ),
        ops.AlterField(
            model_name='Review',
            name='status',
            field=fields.CharEnumField(default=ReviewStatus.PENDING, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected\nCANCELLED: cancelled', enum_type=ReviewStatus, max_length=16),
        ),
        ops.AddField(
            model_name='Review',
            name='checklist',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
        ops.AddField(
            model_name='Review',
            name='round',
            field=fields.SmallIntField(default=1),
        ),
        ops.AddConstraint(
            model_name='Review',
            constraint=UniqueConstraint(fields=('subject_type', 'subject_id', 'stage', 'round'), name=None),
        ),
        ops.AddField(
            model_name='ReviewCard',
            name='checklist',
            field=fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads),
        ),
    ]
