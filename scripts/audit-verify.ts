import { parseArgs } from 'node:util';
import { formatProblem, verifyBundleDirectory } from '@jobengine/core';

/**
 * `npx tsx scripts/audit-verify.ts <bundle-dir> [--public-key <pem>] [--json]`: verifies an audit export
 * bundle offline - signature, file digests and counts, every line's link, the audit chain - and names the
 * first broken link (file, line, field). Exit code 0 when the bundle holds, 1 when it does not, 2 on usage.
 */
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { 'public-key': { type: 'string' }, json: { type: 'boolean', default: false } },
});
if (positionals.length !== 1) {
  console.error('usage: npx tsx scripts/audit-verify.ts <bundle-dir> [--public-key <pem file>] [--json]');
  process.exit(2);
}
const report = await verifyBundleDirectory(positionals[0]!, { publicKeyFile: values['public-key'] });
if (values.json) {
  console.log(
    JSON.stringify({ ok: report.ok, trust: report.trust, keyId: report.keyId, problems: report.problems }),
  );
} else if (report.ok) {
  const m = report.manifest!;
  console.log(`OK  tenant ${m.tenant}, window [${m.window.from}, ${m.window.to})`);
  console.log(
    `    audit chain positions ${m.chain.fromPosition ?? '-'}..${m.chain.toPosition ?? '-'}, head ${m.chain.head}`,
  );
  for (const file of m.files) console.log(`    ${file.name}: ${file.lines} lines, ${file.digest}`);
  console.log(
    `    signed by ${report.keyId}${report.trust === 'bundle-key' ? ' (the key shipped in the bundle: pass --public-key to check who signed)' : ''}`,
  );
} else {
  console.log(`BROKEN  first broken link: ${formatProblem(report.problems[0]!)}`);
  for (const problem of report.problems.slice(1)) console.log(`        also: ${formatProblem(problem)}`);
}
process.exit(report.ok ? 0 : 1);
