// postgres.js 3.4.9 (the newest) can crash the whole process when a connection dies inside
// a transaction: sql.begin() sends its own ROLLBACK on the dead connection, and the write,
// scheduled with setImmediate, dereferences the socket closed() has nulled — an uncaught
// TypeError "Cannot read properties of null (reading 'write')" (porsager/postgres#1208,
// #1154, #1066). Ledger writes every change in a transaction with its event (the event
// log), so a database outage would take the app down. Until the upstream fix (PR #1209)
// is released, this applies the same guard: with no socket, the pending queries are
// rejected with CONNECTION_CLOSED (catchable, as every other connection error) instead.
// Idempotent; run by `npm install`/`npm ci` (postinstall), `npm test` and `npm start`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'node_modules', 'postgres');
const MARK = 'Ledger: guard against a closed socket';
const BEFORE = `  function nextWrite(fn) {
    const x = socket.write(chunk, fn)`;
const AFTER = `  function nextWrite(fn) {
    if (!socket) { // ${MARK} (porsager/postgres#1208)
      chunk = nextWriteTimer = null
      error(Errors.connection('CONNECTION_CLOSED', options))
      return false
    }
    const x = socket.write(chunk, fn)`;

let patched = 0;
for (const dir of ['src', 'cjs/src', 'cf/src']) {
  const file = path.join(root, dir, 'connection.js');
  if (!fs.existsSync(file)) continue;
  const text = fs.readFileSync(file, 'utf8');
  if (text.includes(MARK)) continue;
  if (!text.includes(BEFORE)) {
    console.warn(`patch-postgres: ${file} has changed upstream; check whether porsager/postgres#1208 is fixed and drop this patch`);
    continue;
  }
  fs.writeFileSync(file, text.replace(BEFORE, AFTER));
  patched++;
}
if (patched) console.log(`patch-postgres: guarded nextWrite in ${patched} file(s) of postgres.js (porsager/postgres#1208)`);
