/** Types of http-post.cjs (plain CommonJS: the sender thread loads it by its path). */
export declare const RESPONSE_BODY_LIMIT: number;

export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** The three headers of one attempt: `secrets` are every secret that signs now, newest first. */
export declare function signedHeaders(messageId: string, at: Date, body: string, secrets: readonly string[]): SignedHeaders;

/** POSTs to the checked `address` of `rawUrl`; `done` is called once, with the latency from `started` (performance.now()). */
export declare function postTo(
  rawUrl: string,
  address: string,
  family: number,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  started: number,
  done: (responseCode: number | null, responseBody: string, latencyMs: number, error: string | null) => void,
): void;
