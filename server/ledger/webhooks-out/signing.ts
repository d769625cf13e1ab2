import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/**
 * Signing, as the Standard Webhooks spec says, with its own package: a secret is
 * `whsec_` and base64 of random bytes (32 here; the spec asks 24 to 64), a signature is
 * `v1,` and base64 of HMAC-SHA256 over `${id}.${timestamp}.${body}`, and the header lists
 * every valid signature, space-separated (both secrets for 24 h after a rotation).
 */
export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** How long the secret before a rotation keeps signing. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 3_600_000;

const signers = new Map<string, Webhook>();
function signer(secret: string): Webhook {
  let w = signers.get(secret);
  if (!w) {
    // A small cache: decoding the secret once per endpoint, not per attempt.
    if (signers.size > 1_000) signers.clear();
    signers.set(secret, (w = new Webhook(secret)));
  }
  return w;
}

export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** The three headers of one attempt: `secrets` are every secret that signs now, newest first. */
export function signedHeaders(messageId: string, at: Date, body: string, secrets: readonly string[]): SignedHeaders {
  return {
    'webhook-id': messageId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets.map((s) => signer(s).sign(messageId, at, body)).join(' '),
  };
}
