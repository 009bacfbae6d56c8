from tortoise import migrations
from tortoise.migrations import operations as ops
from models.entities import InstitutionTier
from models.institution_entities import ObjectionStatus, PromotionStatus, SanctionKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0005_privacy')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Sanction',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='sanctions', on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharEnumField(description='SUSPEND: suspend\nREVOKE: revoke\nREINSTATE: reinstate', enum_type=SanctionKind, max_length=16)),
                ('reason_code', fields.CharField(null=True, max_length=24)),
                ('reason', fields.CharField(null=True, max_length=500)),
                ('note', fields.CharField(default='', max_length=500)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='sanctions_made', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'sanctions', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A suspension, revocation or reinstatement of an institution, with reason and note.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TierPromotion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='promotions', on_delete=OnDelete.CASCADE)),
                ('from_tier', fields.CharEnumField(description='CULTIVATING: cultivating\nSERVICE: service\nVOUCHER: voucher', enum_type=InstitutionTier, max_length=16)),
                ('to_tier', fields.CharEnumField(description='CULTIVATING: cultivating\nSERVICE: service\nVOUCHER: voucher', enum_type=InstitutionTier, max_length=16)),
                ('status', fields.CharEnumField(default=PromotionStatus.NOTICE, description='NOTICE: notice\nEFFECTIVE: effective\nCANCELLED: cancelled', enum_type=PromotionStatus, max_length=16)),
                ('proposed_by', fields.ForeignKeyField('models.User', source_field='proposed_by_id', null=True, db_constraint=True, to_field='id', related_name='promotions_proposed', on_delete=OnDelete.SET_NULL)),
                ('notice_ends_on', fields.DateField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('settled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'tier_promotions', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A promotion to a tier that takes effect only after a public notice without objection.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TierObjection',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('promotion', fields.ForeignKeyField('models.TierPromotion', source_field='promotion_id', db_constraint=True, to_field='id', related_name='objections', on_delete=OnDelete.CASCADE)),
                ('objector', fields.ForeignKeyField('models.User', source_field='objector_id', db_constraint=True, to_field='id', related_name='objections', on_delete=OnDelete.CASCADE)),
                ('reason', fields.CharField(max_length=500)),
                ('status', fields.CharEnumField(default=ObjectionStatus.OPEN, description='OPEN: open\nUPHELD: upheld\nDISMISSED: dismissed', enum_type=ObjectionStatus, max_length=16)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='objections_decided', on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'tier_objections', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An objection of a registered user to a promotion under notice.'},
            bases=['Model'],
        ),
    ]
