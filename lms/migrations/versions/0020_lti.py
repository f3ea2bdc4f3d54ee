"""LTI 1.3 tool: platforms, keys, launch states, links, score posts, rosters

Revision ID: 0020_lti
Revises: 0001_people
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lms.db

revision = '0020_lti'
down_revision = '0001_people'
branch_labels = ('lti',)
depends_on = None


def upgrade() -> None:
    op.create_table('lti_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=100), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('private_token', sa.Text(), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('retired_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_key')),
    sa.UniqueConstraint('kid', name=op.f('uq_lti_key_kid'))
    )
    op.create_table('lti_platform',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=255), nullable=False),
    sa.Column('auth_url', sa.String(length=1000), nullable=False),
    sa.Column('token_url', sa.String(length=1000), nullable=False),
    sa.Column('token_audience', sa.String(length=1000), nullable=False),
    sa.Column('jwks_url', sa.String(length=1000), nullable=False),
    sa.Column('frame_origins', sa.String(length=2000), nullable=False),
    sa.Column('match_by', sa.String(length=10), nullable=False),
    sa.Column('nip_claim', sa.String(length=100), nullable=False),
    sa.Column('create_users', sa.Boolean(), nullable=False),
    sa.Column('grant_trainer', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('registered_via', sa.String(length=10), nullable=False),
    sa.Column('product', sa.String(length=200), nullable=False),
    sa.Column('jwks_cache', sa.JSON(), nullable=True),
    sa.Column('jwks_fetched_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_platform')),
    sa.UniqueConstraint('issuer', 'client_id', name=op.f('uq_lti_platform_issuer_client_id'))
    )
    op.create_table('lti_context',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('label', sa.String(length=300), nullable=False),
    sa.Column('memberships_url', sa.String(length=2000), nullable=False),
    sa.Column('roster_pulled_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'], name=op.f('fk_lti_context_platform_id_lti_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_context')),
    sa.UniqueConstraint('platform_id', 'context_id', name=op.f('uq_lti_context_platform_id_context_id'))
    )
    with op.batch_alter_table('lti_context', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_context_platform_id'), ['platform_id'], unique=False)

    op.create_table('lti_deep_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.Column('return_url', sa.String(length=2000), nullable=False),
    sa.Column('data', sa.Text(), nullable=True),
    sa.Column('accept_multiple', sa.Boolean(), nullable=False),
    sa.Column('accept_lineitem', sa.Boolean(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('user_name', sa.String(length=200), nullable=False),
    sa.Column('context_title', sa.String(length=300), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'], name=op.f('fk_lti_deep_link_platform_id_lti_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_deep_link')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_lti_deep_link_token_hash'))
    )
    with op.batch_alter_table('lti_deep_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_deep_link_platform_id'), ['platform_id'], unique=False)

    op.create_table('lti_deployment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'], name=op.f('fk_lti_deployment_platform_id_lti_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_deployment')),
    sa.UniqueConstraint('platform_id', 'deployment_id', name=op.f('uq_lti_deployment_platform_id_deployment_id'))
    )
    with op.batch_alter_table('lti_deployment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_deployment_platform_id'), ['platform_id'], unique=False)

    op.create_table('lti_launch_state',
    sa.Column('state', sa.String(length=64), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('target_link_uri', sa.String(length=2000), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'], name=op.f('fk_lti_launch_state_platform_id_lti_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('state', name=op.f('pk_lti_launch_state')),
    sa.UniqueConstraint('nonce', name=op.f('uq_lti_launch_state_nonce'))
    )
    with op.batch_alter_table('lti_launch_state', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_launch_state_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_launch_state_platform_id'), ['platform_id'], unique=False)

    op.create_table('lti_registration_invite',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('platform_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_lti_registration_invite_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'], name=op.f('fk_lti_registration_invite_platform_id_lti_platform'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_registration_invite')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_lti_registration_invite_token_hash'))
    )
    op.create_table('lti_user_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_user', sa.Boolean(), nullable=False),
    sa.Column('first_context_title', sa.String(length=300), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_launch_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'], name=op.f('fk_lti_user_link_platform_id_lti_platform'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_lti_user_link_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_user_link')),
    sa.UniqueConstraint('platform_id', 'sub', name=op.f('uq_lti_user_link_platform_id_sub'))
    )
    with op.batch_alter_table('lti_user_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_user_link_platform_id'), ['platform_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_user_link_user_id'), ['user_id'], unique=False)

    op.create_table('lti_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['context_id'], ['lti_context.id'], name=op.f('fk_lti_member_context_id_lti_context'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_lti_member_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_member')),
    sa.UniqueConstraint('context_id', 'sub', name=op.f('uq_lti_member_context_id_sub'))
    )
    with op.batch_alter_table('lti_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_member_context_id'), ['context_id'], unique=False)

    op.create_table('lti_resource_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('deployment_id', sa.String(length=255), nullable=False),
    sa.Column('resource_link_id', sa.String(length=255), nullable=False),
    sa.Column('context_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('activity_iri', sa.String(length=1000), nullable=False),
    sa.Column('course_slug', sa.String(length=200), nullable=False),
    sa.Column('target_kind', sa.String(length=10), nullable=False),
    sa.Column('module_id', sa.String(length=200), nullable=False),
    sa.Column('lineitem_url', sa.String(length=2000), nullable=False),
    sa.Column('lineitems_url', sa.String(length=2000), nullable=False),
    sa.Column('ags_scopes', sa.JSON(), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['context_id'], ['lti_context.id'], name=op.f('fk_lti_resource_link_context_id_lti_context'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['platform_id'], ['lti_platform.id'], name=op.f('fk_lti_resource_link_platform_id_lti_platform'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_resource_link')),
    sa.UniqueConstraint('platform_id', 'resource_link_id', name=op.f('uq_lti_resource_link_platform_id_resource_link_id'))
    )
    with op.batch_alter_table('lti_resource_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_resource_link_activity_iri'), ['activity_iri'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_resource_link_context_id'), ['context_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_resource_link_course_slug'), ['course_slug'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_resource_link_platform_id'), ['platform_id'], unique=False)

    op.create_table('lti_binding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_link_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('first_launch_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_launch_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['resource_link_id'], ['lti_resource_link.id'], name=op.f('fk_lti_binding_resource_link_id_lti_resource_link'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_lti_binding_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_binding')),
    sa.UniqueConstraint('resource_link_id', 'user_id', name=op.f('uq_lti_binding_resource_link_id_user_id'))
    )
    with op.batch_alter_table('lti_binding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_binding_user_id'), ['user_id'], unique=False)

    op.create_table('lti_score_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('resource_link_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.String(length=36), nullable=False),
    sa.Column('sub', sa.String(length=255), nullable=False),
    sa.Column('score_given', sa.Float(), nullable=False),
    sa.Column('score_maximum', sa.Float(), nullable=False),
    sa.Column('activity_progress', sa.String(length=20), nullable=False),
    sa.Column('grading_progress', sa.String(length=20), nullable=False),
    sa.Column('timestamp', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('lineitem_url', sa.String(length=2000), nullable=False),
    sa.Column('created_at', lms.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', lms.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['resource_link_id'], ['lti_resource_link.id'], name=op.f('fk_lti_score_post_resource_link_id_lti_resource_link'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_lti_score_post_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lti_score_post')),
    sa.UniqueConstraint('resource_link_id', 'user_id', 'statement_id', name=op.f('uq_lti_score_post_resource_link_id_user_id_statement_id'))
    )
    with op.batch_alter_table('lti_score_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lti_score_post_resource_link_id'), ['resource_link_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_score_post_statement_id'), ['statement_id'], unique=False)
        batch_op.create_index('ix_lti_score_post_status_next', ['status', 'next_attempt'], unique=False)
        batch_op.create_index(batch_op.f('ix_lti_score_post_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('lti_score_post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_score_post_user_id'))
        batch_op.drop_index('ix_lti_score_post_status_next')
        batch_op.drop_index(batch_op.f('ix_lti_score_post_statement_id'))
        batch_op.drop_index(batch_op.f('ix_lti_score_post_resource_link_id'))

    op.drop_table('lti_score_post')
    with op.batch_alter_table('lti_binding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_binding_user_id'))

    op.drop_table('lti_binding')
    with op.batch_alter_table('lti_resource_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_resource_link_platform_id'))
        batch_op.drop_index(batch_op.f('ix_lti_resource_link_course_slug'))
        batch_op.drop_index(batch_op.f('ix_lti_resource_link_context_id'))
        batch_op.drop_index(batch_op.f('ix_lti_resource_link_activity_iri'))

    op.drop_table('lti_resource_link')
    with op.batch_alter_table('lti_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_member_context_id'))

    op.drop_table('lti_member')
    with op.batch_alter_table('lti_user_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_user_link_user_id'))
        batch_op.drop_index(batch_op.f('ix_lti_user_link_platform_id'))

    op.drop_table('lti_user_link')
    op.drop_table('lti_registration_invite')
    with op.batch_alter_table('lti_launch_state', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_launch_state_platform_id'))
        batch_op.drop_index(batch_op.f('ix_lti_launch_state_expires_at'))

    op.drop_table('lti_launch_state')
    with op.batch_alter_table('lti_deployment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_deployment_platform_id'))

    op.drop_table('lti_deployment')
    with op.batch_alter_table('lti_deep_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_deep_link_platform_id'))

    op.drop_table('lti_deep_link')
    with op.batch_alter_table('lti_context', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lti_context_platform_id'))

    op.drop_table('lti_context')
    op.drop_table('lti_platform')
    op.drop_table('lti_key')
