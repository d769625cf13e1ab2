/**
 * Request bodies are read with a cap (LEDGER_MAX_BODY_BYTES, 1 MiB by default): refused
 * from `content-length` before a byte is read, and while streaming once the bytes read
 * pass the cap (a body sent chunked, or with a false length), so an oversized body never
 * sits in memory. Only JSON is accepted: another content type is a 415.
 */
export type BodyRefusal = { status: 413 | 415; code: 'payload_too_large' | 'unsupported_media_type'; message: string };

export function isJsonContentType(req: Request): boolean {
  const type = req.headers.get('content-type')?.split(';', 1)[0]?.trim().toLowerCase();
  return type === 'application/json';
}

/** A refusal decided from the headers alone: the content type, and a declared length over the cap. */
export function refuseByHeaders(req: Request, maxBytes: number, opts: { requireJson: boolean }): BodyRefusal | null {
  if (opts.requireJson && !isJsonContentType(req)) {
    return { status: 415, code: 'unsupported_media_type', message: 'the body must be JSON: content-type: application/json' };
  }
  const length = req.headers.get('content-length');
  if (length !== null && Number(length) > maxBytes) return tooLarge(maxBytes);
  return null;
}

const tooLarge = (maxBytes: number): BodyRefusal => ({
  status: 413,
  code: 'payload_too_large',
  message: `the body is larger than ${maxBytes} bytes`,
});

/** The body as text, or a 413 refusal as soon as more than `maxBytes` arrived (the rest is not read). */
export async function readBodyCapped(req: Request, maxBytes: number): Promise<{ ok: true; text: string } | { ok: false; refusal: BodyRefusal }> {
  if (!req.body) return { ok: true, text: '' };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      return { ok: false, refusal: tooLarge(maxBytes) };
    }
    chunks.push(value);
  }
  return { ok: true, text: Buffer.concat(chunks, size).toString('utf8') };
}

/**
 * The same body as a stream that fails with `onTooLarge()` once more than `maxBytes`
 * passed: for handing a request on (tRPC reads it itself) without buffering it first.
 */
export function cappedStream(body: ReadableStream<Uint8Array>, maxBytes: number, onTooLarge: () => Error): ReadableStream<Uint8Array> {
  let size = 0;
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > maxBytes) controller.error(onTooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
}
