import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTsNode } from '@gaswatch/shared/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';
import { SERVER_MAIN, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.remove());

describe('loadConfig', () => {
  it('applies the SPEC defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 8080,
      host: '127.0.0.1',
      mqtt: { kind: 'embedded', port: 1883 },
      store: { kind: 'embedded' },
      logLevel: 'info',
      configFile: null,
      ingest: { bufferMax: 1_000_000, batchSize: 5_000, flushMs: 50, fsync: false },
    });
    expect(loadConfig({ INGEST_FSYNC: 'true' }).ingest.fsync).toBe(true);
    expect(c.dataDir).toMatch(/data$/);
  });

  it('selects the external broker and InfluxDB when their URLs are set', () => {
    const c = loadConfig({
      MQTT_URL: 'mqtt://broker:1883',
      INFLUX_URL: 'http://influx:8086',
      INFLUX_DB: 'gw',
    });
    expect(c.mqtt).toEqual({ kind: 'external', url: 'mqtt://broker:1883', clientId: 'gaswatch-server' });
    expect(c.store).toEqual({ kind: 'influx', url: 'http://influx:8086', database: 'gw' });
  });

  it('lists every bad variable with its reason', () => {
    let err: unknown;
    try {
      loadConfig({ PORT: 'eighty', MQTT_PORT: '70000', INFLUX_URL: 'not a url', LOG_LEVEL: 'loud' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const issues = (err as ConfigError).issues;
    expect(issues).toHaveLength(4);
    for (const v of ['PORT', 'MQTT_PORT', 'INFLUX_URL', 'LOG_LEVEL'])
      expect(issues.some((i) => i.startsWith(`${v}:`))).toBe(true);
  });

  it('reads and validates the GASWATCH_CONFIG file (YAML), reporting its path and problem', () => {
    const good = join(tmp.dir, 'good.yaml');
    writeFileSync(good, '{}\n');
    expect(loadConfig({ GASWATCH_CONFIG: good }).configFile).toBe(good);
    const missing = join(tmp.dir, 'missing.yaml');
    expect(() => loadConfig({ GASWATCH_CONFIG: missing })).toThrow(/GASWATCH_CONFIG: cannot read/);
    const broken = join(tmp.dir, 'broken.yaml');
    writeFileSync(broken, 'sites: [\n');
    expect(() => loadConfig({ GASWATCH_CONFIG: broken })).toThrow(/not valid YAML/);
    const wrong = join(tmp.dir, 'wrong.json');
    writeFileSync(wrong, JSON.stringify({ sites: 'everywhere' }));
    expect(() => loadConfig({ GASWATCH_CONFIG: wrong })).toThrow(/GASWATCH_CONFIG .*wrong\.json sites/);
  });

  it('the server process exits non-zero on a bad config, listing every error', async () => {
    const proc = startTsNode(SERVER_MAIN, [], {
      env: { PORT: '-1', INFLUX_URL: 'ftp://x', DATA_DIR: tmp.dir },
    });
    const code = await proc.exited;
    expect(code).not.toBe(0);
    expect(proc.output()).toMatch(/PORT:/);
    expect(proc.output()).toMatch(/INFLUX_URL:/);
  });
});
