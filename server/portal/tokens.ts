import { createHash, randomBytes } from 'node:crypto';

/** A URL-safe random token (32 bytes); only its hash is ever stored. */
export const newToken = (): string => randomBytes(32).toString('base64url');

/** SHA-256, hex: what the database keeps of a token. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');
