from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.listing_entities import BookingOutcome, ListingKind, ListingStatus, RequestStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

async def trigram_index(apps, schema_editor):
    """PostgreSQL only: a pg_trgm GIN index lets LIKE '%abc%' on the search text use an index
    for terms of three characters or more (docs/CATALOG_SEARCH.md). The extension may be
    missing or not ours to create: then the catalogue searches without it, as on SQLite."""
    client = schema_editor.client
    if client.capabilities.dialect != "postgres":
        return
    available = await client.execute_query_dict(
        "SELECT 1 AS ok FROM pg_available_extensions WHERE name = 'pg_trgm'"
    )
    if not available:
        return
    await client.execute_script("SAVEPOINT listings_trgm")
    try:
        await client.execute_script("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        await client.execute_script(
            "CREATE INDEX IF NOT EXISTS listings_search_trgm"
            " ON listings USING gin (search_text gin_trgm_ops)"
        )
    except Exception:  # not allowed to create it: search without the index
        await client.execute_script("ROLLBACK TO SAVEPOINT listings_trgm")
    else:
        await client.execute_script("RELEASE SAVEPOINT listings_trgm")


class Migration(migrations.Migration):
    dependencies = [('models', '0010_api')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Listing',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='SERVICE: service\nINSTRUMENT: instrument\nACHIEVEMENT: achievement', enum_type=ListingKind, max_length=16)),
                ('owner', fields.ForeignKeyField('models.Organization', source_field='owner_id', db_constraint=True, to_field='id', related_name='listings', on_delete=OnDelete.RESTRICT)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='listings_written', on_delete=OnDelete.SET_NULL)),
                ('status', fields.CharEnumField(default=ListingStatus.SUBMITTED, description='SUBMITTED: submitted\nREJECTED: rejected\nPUBLISHED: published\nHIDDEN: hidden\nRETIRED: retired', enum_type=ListingStatus, max_length=16)),
                ('title', fields.CharField(max_length=60)),
                ('category', fields.CharField(max_length=24)),
                ('township', fields.CharField(null=True, max_length=24)),
                ('details', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('attachments', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('pending', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('search_text', fields.TextField(default='', unique=False)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'listings', 'app': 'models', 'indexes': [Index(fields=['status', 'kind', 'category']), Index(fields=['status', 'township']), Index(fields=['status', 'id'])], 'pk_attr': 'id', 'table_description': 'A service, instrument or achievement offered in the catalogue.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Booking',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('listing', fields.ForeignKeyField('models.Listing', source_field='listing_id', db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.CASCADE)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.CASCADE)),
                ('mode', fields.CharField(max_length=8)),
                ('starts_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ends_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('purpose', fields.CharField(max_length=500)),
                ('status', fields.CharEnumField(default=RequestStatus.PENDING, description='PENDING: pending\nCOUNTERED: countered\nACCEPTED: accepted\nDECLINED: declined\nCANCELLED: cancelled', enum_type=RequestStatus, max_length=16)),
                ('counter_starts_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('counter_ends_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(null=True, max_length=300)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='bookings_decided', on_delete=OnDelete.SET_NULL)),
                ('demand', fields.ForeignKeyField('models.Demand', source_field='demand_id', null=True, db_constraint=True, to_field='id', related_name='bookings', on_delete=OnDelete.SET_NULL)),
                ('outcome', fields.CharEnumField(null=True, description='USED: used\nNO_SHOW: no_show\nOVERLONG: overlong', enum_type=BookingOutcome, max_length=16)),
                ('outcome_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'listing_bookings', 'app': 'models', 'indexes': [Index(fields=['listing_id', 'starts_at'])], 'pk_attr': 'id', 'table_description': 'A booking of a shared instrument (Shenyang art. 10), answered by its manager.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Enquiry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('listing', fields.ForeignKeyField('models.Listing', source_field='listing_id', db_constraint=True, to_field='id', related_name='enquiries', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='enquiries', on_delete=OnDelete.CASCADE)),
                ('organization', fields.ForeignKeyField('models.Organization', source_field='organization_id', db_constraint=True, to_field='id', related_name='enquiries', on_delete=OnDelete.CASCADE)),
                ('message', fields.CharField(max_length=1000)),
                ('status', fields.CharEnumField(default=RequestStatus.PENDING, description='PENDING: pending\nCOUNTERED: countered\nACCEPTED: accepted\nDECLINED: declined\nCANCELLED: cancelled', enum_type=RequestStatus, max_length=16)),
                ('reason', fields.CharField(null=True, max_length=300)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name='enquiries_decided', on_delete=OnDelete.SET_NULL)),
                ('demand', fields.ForeignKeyField('models.Demand', source_field='demand_id', null=True, db_constraint=True, to_field='id', related_name='enquiries', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'listing_enquiries', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An enquiry of an enterprise about a service or achievement, answered by its owner.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InstrumentTraining',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('listing', fields.ForeignKeyField('models.Listing', source_field='listing_id', db_constraint=True, to_field='id', related_name='trainings', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='trainings', on_delete=OnDelete.CASCADE)),
                ('trained_by', fields.ForeignKeyField('models.User', source_field='trained_by_id', null=True, db_constraint=True, to_field='id', related_name='trainings_given', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'instrument_trainings', 'app': 'models', 'unique_together': (('listing', 'user'),), 'pk_attr': 'id', 'table_description': 'A user trained by the manager of an instrument that requires it before on-site use.'},
            bases=['Model'],
        ),
        ops.RunPython(trigram_index, ops.RunPython.noop),
    ]
