import { createTransport } from 'nodemailer';
import type { Runtime } from '../runtime';
import type { PortalDeps } from './database';
import { deliverToMailbox } from './store';

/**
 * The portal's mail (sign-in links, invitations): through SMTP_URL when set; otherwise
 * printed to the console and kept in the development mailbox (/dev/mailbox), so the
 * embedded default works with no mail server.
 */
export async function sendMail(rt: PortalDeps, m: { to: string; subject: string; text: string; url: string | null }): Promise<void> {
  const to = m.to.trim().toLowerCase();
  if (rt.env.SMTP_URL) {
    const result = await createTransport(rt.env.SMTP_URL).sendMail({ to, from: rt.env.EMAIL_FROM, subject: m.subject, text: m.text });
    const failed = [...(result.rejected ?? []), ...(result.pending ?? [])].filter(Boolean);
    if (failed.length) throw new Error(`the mail to ${failed.join(', ')} could not be sent`);
    return;
  }
  console.log(`[mail] to ${to}: ${m.subject}${m.url ? `: ${m.url}` : ''} (no SMTP_URL: see /dev/mailbox)`);
  await deliverToMailbox(rt.db, { ...m, to }, rt.ledger.clock.now());
}

/**
 * Is the development mailbox page on? Only without SMTP, and not on a production server
 * with its own database: there, anyone reaching /dev/mailbox could read everyone's
 * sign-in links (the links still go to the console).
 */
export const devMailboxEnabled = (env: Runtime['env']): boolean =>
  !env.SMTP_URL && (!env.DATABASE_URL || process.env.NODE_ENV !== 'production');
