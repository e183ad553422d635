/** Finds and validates scenario files; every problem is listed with its path and reason. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinProfile, loadProfileFile, type Profile, ProfileError } from '@gaswatch/shared';
import { parse as parseYaml } from 'yaml';
import { type Scenario, ScenarioSchema } from './schema.js';

/** The scenarios shipped with firmware-sim. */
export const BUILTIN_SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scenarios');

export class ScenarioError extends Error {
  readonly code = 'bad_scenario';
  constructor(
    readonly file: string,
    readonly issues: string[],
  ) {
    super(`${file}: invalid scenario\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ScenarioError';
  }
}

export interface LoadedScenario {
  scenario: Scenario;
  /** Where it came from (a file path). */
  file: string;
  /** Profiles of its devices, by device id. */
  profiles: Map<string, Profile>;
}

/** Validates a parsed scenario document; `file` names it in errors and anchors relative profile paths. */
export function parseScenario(doc: unknown, file: string): LoadedScenario {
  const parsed = ScenarioSchema.safeParse(doc);
  if (!parsed.success) {
    throw new ScenarioError(
      file,
      parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`),
    );
  }
  const scenario = parsed.data;
  const profiles = new Map<string, Profile>();
  const issues: string[] = [];
  scenario.devices.forEach((d, i) => {
    try {
      const isFile = /[\\/]|\.(ya?ml|json)$/.test(d.profile);
      profiles.set(
        d.id,
        isFile ? loadProfileFile(resolve(dirname(file), d.profile)) : builtinProfile(d.profile),
      );
    } catch (err) {
      const why = err instanceof ProfileError ? err.issues.join('; ') : (err as Error).message;
      issues.push(`devices.${i}.profile: ${why}`);
    }
  });
  scenario.transports.forEach((t, i) => {
    const ids = t.type === 'winsen' ? [t.device] : t.devices;
    for (const id of ids) {
      const p = profiles.get(id);
      if (!p) continue;
      if (t.type === 'winsen' && p.transport !== 'winsen')
        issues.push(`transports.${i}.device: "${id}" has profile ${p.id}, not a Winsen module`);
      if (t.type !== 'winsen' && p.transport !== 'modbus')
        issues.push(`transports.${i}.devices: "${id}" has profile ${p.id}, which does not speak Modbus`);
    }
  });
  if (issues.length > 0) throw new ScenarioError(file, issues);
  return { scenario, file, profiles };
}

export function loadScenarioFile(file: string): LoadedScenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(file, [`cannot read: ${(err as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ScenarioError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  return parseScenario(doc, file);
}

/** Built-in scenarios: name and one-line description. */
export function listBuiltinScenarios(): Array<{ name: string; description: string; file: string }> {
  return readdirSync(BUILTIN_SCENARIO_DIR)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => {
      const file = join(BUILTIN_SCENARIO_DIR, f);
      const doc = parseYaml(readFileSync(file, 'utf8')) as { description?: unknown };
      return { name: basename(f, extname(f)), description: String(doc?.description ?? ''), file };
    });
}

/** A built-in name (`demo`) or a path to a scenario file. */
export function resolveScenario(nameOrFile: string): LoadedScenario {
  const builtin = join(BUILTIN_SCENARIO_DIR, `${nameOrFile}.yaml`);
  if (/^[a-z0-9][a-z0-9_-]*$/.test(nameOrFile) && existsSync(builtin)) return loadScenarioFile(builtin);
  if (existsSync(nameOrFile)) return loadScenarioFile(resolve(nameOrFile));
  const names = listBuiltinScenarios().map((s) => s.name);
  throw new ScenarioError(nameOrFile, [
    `no such file and no built-in scenario of that name (built-in: ${names.join(', ')})`,
  ]);
}
