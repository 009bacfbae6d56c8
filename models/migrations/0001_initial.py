from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.entities import InstitutionTier, OrgKind, OrgStatus, RegistrationStatus, ReviewStatus, Role, UserStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditLog',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('actor_id', fields.BigIntField(null=True)),
                ('action', fields.CharField(max_length=48)),
                ('subject_type', fields.CharField(max_length=24)),
                ('subject_id', fields.CharField(max_length=48)),
                ('before', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('after', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_log', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Who did what to which record, when, with before/after (DESIGN §2).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('flow', fields.CharField(max_length=32)),
                ('state', fields.CharField(max_length=32)),
                ('version', fields.IntField()),
                ('data', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'conversations', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Conversation state and draft answers of one user in one chat, written per update.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Organization',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('kind', fields.CharEnumField(description='ENTERPRISE: enterprise\nRESEARCH: research\nINSTITUTION: institution', enum_type=OrgKind, max_length=16)),
                ('credit_code', fields.CharField(null=True, unique=True, max_length=18)),
                ('township', fields.CharField(null=True, max_length=24)),
                ('service_fields', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('tier', fields.CharEnumField(null=True, description='CULTIVATING: cultivating\nSERVICE: service\nVOUCHER: voucher', enum_type=InstitutionTier, max_length=16)),
                ('status', fields.CharEnumField(default=OrgStatus.PENDING, description='PENDING: pending\nACTIVE: active\nSUSPENDED: suspended\nREVOKED: revoked', enum_type=OrgStatus, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'organizations', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An enterprise, research team or service institution.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.BigIntField(generated=False, primary_key=True, unique=True, db_index=True)),
                ('first_name', fields.CharField(default='', max_length=128)),
                ('username', fields.CharField(null=True, max_length=64)),
                ('language_code', fields.CharField(null=True, max_length=16)),
                ('locale', fields.CharField(null=True, max_length=8)),
                ('role', fields.CharEnumField(null=True, description='ENTERPRISE: enterprise\nRESEARCH: research\nINSTITUTION: institution\nASSISTANT: assistant\nREVIEWER: reviewer\nPUBLISHER: publisher\nADMIN: admin', enum_type=Role, max_length=16)),
                ('status', fields.CharEnumField(default=UserStatus.PENDING, description='PENDING: pending\nACTIVE: active\nREJECTED: rejected\nSUSPENDED: suspended', enum_type=UserStatus, max_length=16)),
                ('real_name', fields.CharField(null=True, max_length=64)),
                ('phone', fields.CharField(null=True, max_length=20)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', null=True, db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.SET_NULL)),
                ('township', fields.CharField(null=True, max_length=24)),
                ('reachable', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'users', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A Telegram user known to the bot, keyed by the Telegram user id.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Invite',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('token', fields.CharField(unique=True, max_length=48)),
                ('role', fields.CharEnumField(description='ENTERPRISE: enterprise\nRESEARCH: research\nINSTITUTION: institution\nASSISTANT: assistant\nREVIEWER: reviewer\nPUBLISHER: publisher\nADMIN: admin', enum_type=Role, max_length=16)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', db_constraint=True, to_field='id', related_name='invites_created', on_delete=OnDelete.CASCADE)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_by', fields.ForeignKeyField('models.User', source_field='used_by_id', null=True, db_constraint=True, to_field='id', related_name='invites_used', on_delete=OnDelete.SET_NULL)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'invites', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A single-use, expiring deep link into a staff role.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Registration',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='registrations', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharEnumField(description='ENTERPRISE: enterprise\nRESEARCH: research\nINSTITUTION: institution\nASSISTANT: assistant\nREVIEWER: reviewer\nPUBLISHER: publisher\nADMIN: admin', enum_type=Role, max_length=16)),
                ('real_name', fields.CharField(max_length=64)),
                ('phone', fields.CharField(max_length=20)),
                ('org_name', fields.CharField(max_length=100)),
                ('credit_code', fields.CharField(null=True, max_length=18)),
                ('township', fields.CharField(null=True, max_length=24)),
                ('service_fields', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('status', fields.CharEnumField(default=RegistrationStatus.SUBMITTED, description='SUBMITTED: submitted\nAPPROVED: approved\nREJECTED: rejected', enum_type=RegistrationStatus, max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'registrations', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One registration application, as submitted. A rejected one stays as history.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Review',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('subject_type', fields.CharField(max_length=24)),
                ('subject_id', fields.IntField()),
                ('stage', fields.CharField(max_length=16)),
                ('status', fields.CharEnumField(default=ReviewStatus.PENDING, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected', enum_type=ReviewStatus, max_length=16)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='decisions', on_delete=OnDelete.SET_NULL)),
                ('reason', fields.CharField(null=True, max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reviews', 'app': 'models', 'unique_together': (('subject_type', 'subject_id', 'stage'),), 'pk_attr': 'id', 'table_description': 'One decision at one stage on one record (DESIGN §2: Review).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReviewCard',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('review', fields.ForeignKeyField('models.Review', source_field='review_id', db_constraint=True, to_field='id', related_name='cards', on_delete=OnDelete.CASCADE)),
                ('reviewer_id', fields.BigIntField()),
                ('message_id', fields.BigIntField()),
            ],
            options={'table': 'review_cards', 'app': 'models', 'unique_together': (('review', 'reviewer_id'),), 'pk_attr': 'id', 'table_description': 'A copy of a review card sent to one reviewer, so every copy can be edited later.'},
            bases=['Model'],
        ),
    ]
