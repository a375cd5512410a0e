// Prints the validation metrics of docs/v1/run-validation.sh (tmp/val/*/): per method, error/NLL/ECE
// of the result, of the members, and SWA without BN recompute.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2] ?? 'tmp/val';
const f = (x) => x.toFixed(4);
for (const name of readdirSync(root).sort()) {
  const dir = join(root, name);
  if (!existsSync(join(dir, 'compare.json'))) continue;
  for (const method of ['baseline', 'sse', 'fge', 'swa']) {
    const path = join(dir, method, 'metrics.json');
    if (!existsSync(path)) continue;
    const m = JSON.parse(readFileSync(path, 'utf8'));
    const r = m.result;
    let extra = '';
    if (m.swa)
      extra = `stale-BN err ${f(1 - m.swa.staleBatchNorm.accuracy)} nll ${f(m.swa.staleBatchNorm.nll)}; sgd err ${f(1 - m.swa.sgd.accuracy)} nll ${f(m.swa.sgd.nll)}; averaged ${m.swa.averaged}`;
    else if (m.members.length > 1)
      extra = `members err ${m.members.map((x) => f(1 - x.accuracy)).join(' ')} nll ${m.members.map((x) => f(x.nll)).join(' ')}`;
    console.log(
      `${name.padEnd(14)} ${method.padEnd(8)} err ${f(1 - r.accuracy)} nll ${f(r.nll)} ece ${f(r.ece)}  ${extra}`,
    );
  }
}
