// One style of error code across the project (issue "The house in order"): snake_case, the style
// of the API's `{"error": "store_unavailable"}`, so a code reads the same in an API answer, a log
// line, a gateway's lastError and a test.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PACKAGES = ['shared', 'gateway', 'server', 'firmware-sim'];
/**
 * Where a code is written: `new X('code', …)` for the error classes that take the code first,
 * `new HttpError(404, 'code', …)`, `super('code', …)` in a subclass, `readonly code = 'code'`.
 */
const CODE_SITES = [
  /\bnew (?:GatewayError|DriverError|ServerError|AlarmError|AlarmInputError|NotifyError|PermitRuleError)\(\s*'([^']*)'/g,
  /\bnew HttpError\(\s*\d+,\s*'([^']*)'/g,
  /\bsuper\(\s*'([^']*)'/g,
  /\breadonly code = '([^']*)'/g,
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') ? [path] : [];
  });
}

describe('error codes', () => {
  it('are snake_case in every package', () => {
    const codes: string[] = [];
    const bad: string[] = [];
    for (const file of PACKAGES.flatMap((p) => sourceFiles(join(ROOT, p, 'src')))) {
      const text = readFileSync(file, 'utf8');
      for (const re of CODE_SITES)
        for (const m of text.matchAll(re)) {
          const code = m[1] as string;
          codes.push(code);
          if (!/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(code)) bad.push(`${relative(ROOT, file)}: '${code}'`);
        }
    }
    expect(codes.length).toBeGreaterThan(20);
    expect(bad).toEqual([]);
  });
});
