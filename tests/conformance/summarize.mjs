// Reads one conformance run (the CLI's stdout log plus its `-o` results directory), prints one
// line per scenario with the messages of every failed or warning check, and exits non-zero on
// any unexpected result.
//
// usage: node summarize.mjs <label> <stdout-log> <results-dir> <baseline.yml>
//
// Like the CLI's own --expected-failures check: a scenario fails if any check is FAILURE or
// WARNING; a failing scenario must be listed in the baseline, and a listed one must still fail
// (a stale entry is an error, so a scenario that starts passing is required from then on).
// An expected failure gets one line; an unexpected one every failed or warning check.
//
// Last line: `<label>: N passed, M failed` (scenarios), the plain closing line CI reads.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const [label, logPath, resultsDir, baselinePath] = process.argv.slice(2);
if (!label || !logPath || !resultsDir || !baselinePath) {
  console.error('usage: node summarize.mjs <label> <stdout-log> <results-dir> <baseline.yml>');
  process.exit(2);
}

// The baselines are plain `server:` lists; no YAML library needed.
const baseline = new Set();
let inServer = false;
for (const raw of readFileSync(baselinePath, 'utf8').split('\n')) {
  const line = raw.replace(/#.*$/, '');
  if (/^server:\s*(\[\s*\])?\s*$/.test(line)) { inServer = true; continue; }
  if (/^\S/.test(line)) { inServer = false; continue; }
  const item = line.match(/^\s+-\s+(\S+)\s*$/);
  if (inServer && item) baseline.add(item[1]);
}

// Scenario order and names come from the log, so a scenario that crashed before writing its
// checks.json still shows up.
const log = readFileSync(logPath, 'utf8');
const scenarios = [...log.matchAll(/^=== Running scenario: (\S+) ===$/gm)].map((m) => m[1]);
if (scenarios.length === 0) {
  console.log(`${label}: the suite ran no scenario; its output:`);
  console.log(log.split('\n').slice(-40).join('\n'));
  console.log(`${label}: 0 passed, 1 failed`);
  process.exit(1);
}

const dirs = existsSync(resultsDir) ? readdirSync(resultsDir) : [];
function checksOf(scenario) {
  const prefix = `server-${scenario}-`;
  const dir = dirs.filter((d) => d.startsWith(prefix) && /^\d{4}-\d\d-\d\dT/.test(d.slice(prefix.length))).sort().pop();
  if (!dir) return null;
  return JSON.parse(readFileSync(join(resultsDir, dir, 'checks.json'), 'utf8'));
}

let passed = 0;
let failed = 0;
const unexpected = [];
const stale = [];
for (const scenario of scenarios) {
  const checks = checksOf(scenario) ?? [
    { name: scenario, status: 'FAILURE', errorMessage: 'scenario crashed before writing checks.json (see the log)' },
  ];
  const bad = checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
  const failures = bad.filter((c) => c.status === 'FAILURE');
  const listed = baseline.has(scenario);
  const counts = `${checks.filter((c) => c.status === 'SUCCESS').length} ok, ${failures.length} failed, ${bad.length - failures.length} warnings`;
  let verdict;
  const fails = bad.length > 0;
  if (fails && listed) verdict = 'expected failure';
  else if (fails) { verdict = 'FAIL'; unexpected.push(scenario); }
  else if (listed) { verdict = 'STALE (passes but is in the baseline)'; stale.push(scenario); }
  else verdict = 'pass';
  if (verdict === 'pass' || verdict === 'expected failure') passed++; else failed++;
  console.log(`  ${verdict.padEnd(16)} ${scenario} (${counts})`);
  // An expected failure's checks are known noise: one line is enough.
  if (listed) continue;
  for (const c of bad) {
    const why = c.errorMessage ?? (c.details ? JSON.stringify(c.details).slice(0, 300) : '');
    console.log(`      ${c.status} ${c.name}: ${why}`);
  }
}

if (unexpected.length) console.log(`${label}: unexpected failures: ${unexpected.join(', ')}`);
if (stale.length) console.log(`${label}: stale baseline entries (remove them from ${baselinePath}): ${stale.join(', ')}`);
console.log(`${label}: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
