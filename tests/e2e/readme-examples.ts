/**
 * The README's examples, as tests/e2e/readme.spec.ts runs them: every ```ts and ```sh
 * block, in order, unless the line right above it is a marker saying why it is not run:
 *
 *   <!-- not run: starts the app itself -->
 *   ```sh
 *   npm install && npm start
 *   ```
 *
 * A ```ts block is a whole program, run from the repository's root as `npx tsx` runs a
 * file there; a ```sh block runs in bash (`set -eo pipefail`) from the root. Both get the
 * variables `npm start` tells the reader to export, and nothing else of the README's.
 *
 * An output shown in a block is checked too: a line `// → <value>` (ts) after a
 * `const name = …` statement, or at the end of that statement's line, states what `name`
 * holds; a line `# → <value>` (sh) states the JSON the block prints last. The value is a
 * JavaScript literal matched as a pattern (`toMatchObject`): fields it leaves out may be
 * anything, so it shows what a reader should notice, and no field it shows may be wrong.
 */
export type ExampleLanguage = 'ts' | 'sh';

export interface ShownOutput {
  /** The README line of the `→` comment. */
  line: number;
  /** ts: the constant shown; sh: null (the last JSON the block prints). */
  name: string | null;
  /** The literal as written after the arrow. */
  literal: string;
}

export interface Example {
  language: ExampleLanguage;
  /** The README line of the opening fence. */
  line: number;
  /** The heading the block sits under, to name it in a report. */
  heading: string;
  code: string;
  shown: ShownOutput[];
}

export interface SkippedExample {
  line: number;
  reason: string;
}

const LANGUAGES: Record<string, ExampleLanguage> = { ts: 'ts', typescript: 'ts', sh: 'sh', bash: 'sh', shell: 'sh' };
const MARKER = /^<!--\s*not run:\s*(.*?)\s*-->$/;
const LONG_RUNNING = /\bnpm\s+(?:install|i|ci|start|test)\b|\bnpm\s+run\s+(?:dev|serve|start|build|test[\w:-]*)\b|\bnext\s+(?:dev|start)\b/;

export function readmeExamples(markdown: string): { examples: Example[]; skipped: SkippedExample[] } {
  const lines = markdown.split('\n');
  const examples: Example[] = [];
  const skipped: SkippedExample[] = [];
  let heading = '';
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i]!;
    const marker = MARKER.exec(text.trim());
    if (marker) {
      if (!marker[1]) throw new Error(`README.md:${i + 1}: a "not run" marker needs a reason`);
      if (!/^```/.test(lines[i + 1] ?? '')) throw new Error(`README.md:${i + 1}: a "not run" marker must be right above the block it skips`);
    }
    if (/^#{1,6} /.test(text)) heading = text.replace(/^#+ /, '');
    const fence = /^```(\S*)/.exec(text);
    if (!fence) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`README.md:${start + 1}: the block is never closed`);
    const language = LANGUAGES[fence[1]!.toLowerCase()];
    if (!language) continue;
    const skip = MARKER.exec((lines[start - 1] ?? '').trim());
    if (skip) {
      skipped.push({ line: start + 1, reason: skip[1]! });
      continue;
    }
    const code = body.join('\n') + '\n';
    // Not a way to skip (the marker is): a guard, so an unmarked block that would install
    // packages or start a server fails the test at once instead of running.
    if (language === 'sh' && LONG_RUNNING.test(code)) {
      throw new Error(`README.md:${start + 1}: this block installs packages or starts a server; put a "<!-- not run: reason -->" line right above it`);
    }
    examples.push({ language, line: start + 1, heading, code, shown: shownOutputs(language, body, start + 2) });
  }
  return { examples, skipped };
}

/** The `→` comments of a block; `firstLine` is the README line of the block's first line. */
function shownOutputs(language: ExampleLanguage, body: string[], firstLine: number): ShownOutput[] {
  const shown: ShownOutput[] = [];
  body.forEach((text, k) => {
    const line = firstLine + k;
    if (language === 'sh') {
      const m = /^\s*# → (.+)$/.exec(text);
      if (m) shown.push({ line, name: null, literal: m[1]! });
      return;
    }
    const arrow = /\/\/ → (.+)$/.exec(text);
    if (!arrow) return;
    const before = text.slice(0, arrow.index).trim();
    // `const x = …; // → …` on one line, else the nearest `const x =` above.
    const own = /^(?:const|let) (\w+)\s*=/.exec(before);
    let name = own?.[1] ?? null;
    if (!name && before === '') {
      for (let j = k - 1; j >= 0 && !name; j--) name = /^\s*(?:const|let) (\w+)\s*=/.exec(body[j]!)?.[1] ?? null;
    }
    if (!name) throw new Error(`README.md:${line}: "// →" shows the value of a \`const name = …\` above it, and there is none`);
    shown.push({ line, name, literal: arrow[1]!.trim() });
  });
  return shown;
}

/** The value a `→` comment shows, as JSON would carry it (Dates become ISO strings). */
export function shownValue(s: ShownOutput): unknown {
  let value: unknown;
  try {
    value = new Function(`return (${s.literal});`)();
  } catch (e) {
    throw new Error(`README.md:${s.line}: the output shown is not a JavaScript value (${(e as Error).message}): ${s.literal}`);
  }
  return JSON.parse(JSON.stringify(value));
}

/** Marks the line a ts program prints for one shown output. */
export const SHOWN_TAG = '\u241Ereadme-shown ';

/**
 * The ts program as written, with one line appended per shown output that prints the
 * constant's value (as JSON) for the test to compare: the reader's code is not changed.
 */
export function withShownOutputs(example: Example): string {
  const prints = example.shown.map(
    (s, i) => `console.log(${JSON.stringify(SHOWN_TAG)} + JSON.stringify({ i: ${i}, value: ${s.name} }));`,
  );
  return prints.length ? `${example.code}\n${prints.join('\n')}\n` : example.code;
}

/** Parses `export A=1 B=2` (the line `npm start` prints) into variables. */
export function parseExportLine(line: string): Record<string, string> {
  const m = /^\s*export\s+(.+)$/.exec(line);
  if (!m) throw new Error(`not an export line: ${line}`);
  const vars: Record<string, string> = {};
  for (const pair of m[1]!.trim().split(/\s+/)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`not NAME=value: ${pair}`);
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return vars;
}
