// The tests need two programs from Debian: Chromium, which the e2e tests drive
// (Playwright never downloads a browser here), and pdftotext (poppler-utils), which reads
// the invoice PDFs' text back. Installs what is missing with apt-get when we are root;
// otherwise says how.
import { execSync } from 'node:child_process';
import fs from 'node:fs';

const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const onPath = (cmd) => {
  try {
    execSync(`command -v ${cmd}`, { stdio: 'ignore', shell: '/bin/sh' });
    return true;
  } catch {
    return false;
  }
};
const missing = [];
if (!fs.existsSync(chromium)) missing.push(['chromium', `Chromium not found at ${chromium}: install it (sudo apt-get install -y chromium) or set CHROMIUM_PATH.`]);
if (!onPath('pdftotext')) missing.push(['poppler-utils', 'pdftotext not found: install it (sudo apt-get install -y poppler-utils).']);
if (missing.length === 0) process.exit(0);
if (process.getuid?.() === 0 && fs.existsSync('/usr/bin/apt-get')) {
  const packages = missing.map(([p]) => p).join(' ');
  console.log(`Installing Debian's ${packages} for the tests…`);
  execSync(`apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages}`, { stdio: 'inherit' });
  process.exit(0);
}
for (const [, how] of missing) console.error(how);
process.exit(1);
