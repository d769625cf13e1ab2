import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The sender thread (a worker thread that signs and POSTs) in a process of its own: a
 * message goes through it signed, and the process then exits by itself, whether the
 * engine was shut down (the thread terminated) or left idle (an idle thread is unref'd).
 * A thread that kept the process alive would leave this test waiting until its timeout.
 */
const child = path.join(import.meta.dirname, 'send-thread-child.ts');
/** Children still running when the file ends (a thread kept one alive): killed, not left behind. */
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const p of running) p.kill('SIGKILL');
});

function run(mode: 'shutdown' | 'idle'): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
    running.add(proc);
    let out = '';
    proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
    proc.on('error', reject);
    proc.on('exit', (code) => {
      running.delete(proc);
      resolve({ code, out });
    });
  });
}

describe('sender thread', () => {
  it.each(['shutdown', 'idle'] as const)('a message is sent signed through it, and the process exits by itself (%s)', async (mode) => {
    const { code, out } = await run(mode);
    expect(code).toBe(0);
    const line = out.split('\n').find((l) => l.startsWith('ATTEMPT '));
    expect(JSON.parse(line!.slice('ATTEMPT '.length))).toEqual({ status: 'succeeded', responseCode: 200, responseBody: 'signed' });
  }, 60_000);
});
