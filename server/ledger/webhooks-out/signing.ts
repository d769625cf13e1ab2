import { randomBytes } from 'node:crypto';

/**
 * Signing, as the Standard Webhooks spec says, with its own package: a secret is
 * `whsec_` and base64 of random bytes (32 here; the spec asks 24 to 64), a signature is
 * `v1,` and base64 of HMAC-SHA256 over `${id}.${timestamp}.${body}`, and the header lists
 * every valid signature, space-separated (both secrets for 24 h after a rotation).
 */
export const newSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/** How long the secret before a rotation keeps signing. */
export const PREVIOUS_SECRET_TTL_MS = 24 * 3_600_000;

// The headers are made where the POST is (http-post.cjs: this thread and the sender thread).
export { signedHeaders, type SignedHeaders } from './http-post.cjs';
