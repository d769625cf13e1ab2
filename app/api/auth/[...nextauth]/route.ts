import { handlers } from '@/server/auth/next-auth';

export const dynamic = 'force-dynamic';

/** Auth.js's endpoints: sign-in, callbacks, the session, sign-out (server/auth/next-auth.ts). */
export const { GET, POST } = handlers;
