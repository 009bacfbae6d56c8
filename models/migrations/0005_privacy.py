from tortoise import migrations
from tortoise.migrations import operations as ops
from models.crypto import EncryptedCharField
from models.entities import RegistrationStatus, UserStatus
from tortoise import fields


class AlterFieldNotOnSqlite(ops.AlterField):
    """An AlterField that SQLite does not need and must not run.

    SQLite neither enforces VARCHAR lengths nor keeps column comments outside the CREATE
    TABLE text, and Tortoise's SQLite editor alters a column by rebuilding the table: it
    drops the old one, and with foreign_keys ON that DROP deletes the rows referencing it
    (every registration, RSVP and invite of every user, for the users table). PostgreSQL
    widens the column in place.
    """

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


class StateOnlyAlterField(ops.AlterField):
    """Correct the migration state only: 0004 recorded the inbox key as generated, which the
    model never was (the code always gives Telegram's update_id), so makemigrations kept
    proposing to drop and re-add the primary key. The database needs no change."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        return


class Migration(migrations.Migration):
    dependencies = [('models', '0004_inbox')]

    initial = False

    operations = [
        StateOnlyAlterField(
            model_name='InboxUpdate',
            name='update_id',
            field=fields.BigIntField(generated=False, primary_key=True, unique=True, db_index=True),
        ),
        AlterFieldNotOnSqlite(
            model_name='Registration',
            name='phone',
            field=EncryptedCharField(max_length=255),
        ),
        AlterFieldNotOnSqlite(
            model_name='Registration',
            name='status',
            field=fields.CharEnumField(default=RegistrationStatus.SUBMITTED, description='SUBMITTED: submitted\nAPPROVED: approved\nREJECTED: rejected\nWITHDRAWN: withdrawn', enum_type=RegistrationStatus, max_length=16),
        ),
        AlterFieldNotOnSqlite(
            model_name='User',
            name='phone',
            field=EncryptedCharField(null=True, max_length=255),
        ),
        AlterFieldNotOnSqlite(
            model_name='User',
            name='status',
            field=fields.CharEnumField(default=UserStatus.PENDING, description='PENDING: pending\nACTIVE: active\nREJECTED: rejected\nSUSPENDED: suspended\nFORGOTTEN: forgotten', enum_type=UserStatus, max_length=16),
        ),
    ]
