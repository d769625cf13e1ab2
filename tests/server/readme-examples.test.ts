import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExportLine, readmeExamples, shownValue, withShownOutputs } from '../e2e/readme-examples';

/**
 * How tests/e2e/readme.spec.ts reads the README: which blocks it runs, which it skips and
 * why, and the outputs a block shows. (The spec runs them; this checks the reading.)
 */
const md = [
  '# Title',
  '## Start',
  '<!-- not run: starts the app itself -->',
  '```sh',
  'npm start',
  '```',
  '```text',
  'output, not code',
  '```',
  '## Use',
  '```ts',
  "const a = await f(); // → { ok: true }",
  'const b = await g();',
  "// → ['x', 'y']",
  '```',
  '```bash',
  'curl …',
  '# → {"accepted": 1}',
  '```',
].join('\n');

describe('reading the README for its examples', () => {
  it('runs every ts and sh block in order, skips a block only under a "not run" marker with its reason', () => {
    const { examples, skipped } = readmeExamples(md);
    expect(examples.map((e) => [e.line, e.language, e.heading])).toEqual([
      [11, 'ts', 'Use'],
      [16, 'sh', 'Use'],
    ]);
    expect(skipped).toEqual([{ line: 4, reason: 'starts the app itself' }]);
  });

  it('reads the outputs a block shows: on the statement\'s line or the line after, and the JSON an sh block prints', () => {
    const [ts, sh] = readmeExamples(md).examples;
    expect(ts!.shown).toEqual([
      { line: 12, name: 'a', literal: '{ ok: true }' },
      { line: 14, name: 'b', literal: "['x', 'y']" },
    ]);
    expect(ts!.shown.map(shownValue)).toEqual([{ ok: true }, ['x', 'y']]);
    expect(sh!.shown).toEqual([{ line: 18, name: null, literal: '{"accepted": 1}' }]);
    // the program runs as written, with a line per shown output appended
    const program = withShownOutputs(ts!);
    expect(program.startsWith(ts!.code)).toBe(true);
    expect(program.slice(ts!.code.length)).toContain('JSON.stringify({ i: 1, value: b })');
  });

  it('refuses a marker that is not right above a block, one without a reason, and an output shown for no constant', () => {
    expect(() => readmeExamples('<!-- not run: why -->\n\n```sh\nx\n```\n')).toThrow(/README.md:1: a "not run" marker must be right above/);
    expect(() => readmeExamples('<!-- not run: -->\n```sh\nx\n```\n')).toThrow(/needs a reason/);
    expect(() => readmeExamples('```ts\nawait f();\n// → 1\n```\n')).toThrow(/README.md:3: "\/\/ →" shows the value of a `const name = …`/);
    expect(() => shownValue({ line: 9, name: 'x', literal: '{ invoice: … }' })).toThrow(/README.md:9: the output shown is not a JavaScript value/);
    // an unmarked block that would install or start the app fails instead of running
    expect(() => readmeExamples('## Start\n```sh\nnpm install && npm start\n```\n')).toThrow(/README.md:2: this block installs packages or starts a server/);
  });

  it("reads the export line npm start prints", () => {
    expect(parseExportLine('  export LEDGER_URL=http://localhost:3000 LEDGER_API_KEY=ldg_test_x LEDGER_CUSTOMER_ID=cst_y')).toEqual({
      LEDGER_URL: 'http://localhost:3000',
      LEDGER_API_KEY: 'ldg_test_x',
      LEDGER_CUSTOMER_ID: 'cst_y',
    });
  });

  it('the README itself reads without error', () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    expect(readmeExamples(readme).examples.length).toBeGreaterThan(0);
  });
});
