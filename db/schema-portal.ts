import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, primaryKey, serial, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';
import { scope, ts } from './columns';

/**
 * Who signs in to the customer portal.
 *
 * Auth.js's tables (users, accounts, sessions, verification tokens, read and written by
 * @auth/drizzle-adapter) are deployment-level, like the webhook inbox and the api_keys
 * lookup: a person (an email address) is not a tenant's. The same person may belong to
 * customers of several tenants; what they may see is decided by portal_memberships,
 * which carries the scope. The JS property names are the ones the adapter reads
 * (`emailVerified`, `providerAccountId`, `refresh_token`…); the SQL names are ours.
 * Sessions are JWTs (no rows in auth_sessions), but the adapter wants the table.
 */
export const authUsers = pgTable('auth_users', {
  id: text('id')
    .primaryKey()
    .$defaultFn(() => crypto.randomUUID()),
  name: text('name'),
  /** Lowercased by Auth.js before it gets here. */
  email: text('email').unique(),
  emailVerified: timestamp('email_verified', { mode: 'date' }),
  image: text('image'),
});

export const authAccounts = pgTable(
  'auth_accounts',
  {
    userId: text('user_id')
      .notNull()
      .references(() => authUsers.id, { onDelete: 'cascade' }),
    type: text('type').$type<'email' | 'oauth' | 'oidc' | 'webauthn'>().notNull(),
    provider: text('provider').notNull(),
    providerAccountId: text('provider_account_id').notNull(),
    refresh_token: text('refresh_token'),
    access_token: text('access_token'),
    expires_at: integer('expires_at'),
    token_type: text('token_type'),
    scope: text('scope'),
    id_token: text('id_token'),
    session_state: text('session_state'),
  },
  (t) => [primaryKey({ columns: [t.provider, t.providerAccountId] }), index('auth_accounts_user_idx').on(t.userId)],
);

export const authSessions = pgTable('auth_sessions', {
  sessionToken: text('session_token').primaryKey(),
  userId: text('user_id')
    .notNull()
    .references(() => authUsers.id, { onDelete: 'cascade' }),
  expires: timestamp('expires', { mode: 'date' }).notNull(),
});

/** Magic-link tokens (Auth.js stores them hashed with the secret). */
export const authVerificationTokens = pgTable(
  'auth_verification_tokens',
  {
    identifier: text('identifier').notNull(),
    token: text('token').notNull(),
    expires: timestamp('expires', { mode: 'date' }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.identifier, t.token] })],
);

/**
 * A user's place in a customer's portal, with a role: `owner` and `billing` change plans,
 * pay and edit billing details (owners also invite and remove users); `member` sees.
 * Looked up by user at every portal request (the role may have changed since sign-in).
 */
export const portalMemberships = pgTable(
  'portal_memberships',
  {
    ...scope,
    customerId: text('customer_id').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => authUsers.id, { onDelete: 'cascade' }),
    role: text('role').$type<'owner' | 'billing' | 'member'>().notNull(),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.customerId, t.userId] }),
    index('portal_memberships_user_idx').on(t.userId),
    check('portal_memberships_role', sql`${t.role} in ('owner', 'billing', 'member')`),
  ],
);

/**
 * An owner's invitation of an email address: the invitee signs in with that address
 * (magic link or a provider that verified it) and the membership is made, once. One open
 * invitation per address and customer (inviting again replaces it). The link's token is
 * kept only as its SHA-256.
 */
export const portalInvitations = pgTable(
  'portal_invitations',
  {
    ...scope,
    customerId: text('customer_id').notNull(),
    /** Lowercased. */
    email: text('email').notNull(),
    role: text('role').$type<'owner' | 'billing' | 'member'>().notNull(),
    tokenHash: text('token_hash').notNull(),
    invitedBy: text('invited_by'),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    acceptedAt: ts('accepted_at'),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.appId, t.customerId, t.email] }),
    uniqueIndex('portal_invitations_token_idx').on(t.tokenHash),
    index('portal_invitations_email_idx').on(t.email),
    check('portal_invitations_role', sql`${t.role} in ('owner', 'billing', 'member')`),
  ],
);

/**
 * Portal sessions (as Stripe's billing portal sessions): a product team's backend asks for
 * one with its API key and sends its user to the URL. Single use (used_at is set by a
 * conditional update), valid 5 minutes; the token is kept only as its SHA-256, which is
 * the key (the lookup has no scope: the URL is all the visitor brings).
 */
export const portalSessions = pgTable(
  'portal_sessions',
  {
    tokenHash: text('token_hash').primaryKey(),
    ...scope,
    customerId: text('customer_id').notNull(),
    returnUrl: text('return_url'),
    createdAt: ts('created_at').notNull(),
    expiresAt: ts('expires_at').notNull(),
    usedAt: ts('used_at'),
  },
  (t) => [index('portal_sessions_scope_idx').on(t.tenantId, t.appId, t.customerId)],
);

/**
 * The development mailbox: with no SMTP server configured, sign-in links and invitations
 * are written here (and to the console) and shown at /dev/mailbox.
 */
export const devMailbox = pgTable(
  'dev_mailbox',
  {
    id: serial('id').primaryKey(),
    to: text('to').notNull(),
    subject: text('subject').notNull(),
    text: text('text').notNull(),
    url: text('url'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [index('dev_mailbox_to_idx').on(t.to, t.createdAt)],
);
