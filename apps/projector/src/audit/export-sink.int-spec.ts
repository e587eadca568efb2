import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommandFailure } from './cli-support';
import { atomicFileSink } from './export-sink';

const dir = mkdtempSync(join(tmpdir(), 'export-sink-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('an export file appears whole or not at all', () => {
  it('keeps the previous file until the new one is committed, then replaces it', async () => {
    const target = join(dir, 'log.ndjson');
    writeFileSync(target, 'the previous export\n');
    const sink = await atomicFileSink(target);
    expect(await sink.write('{"a":1}\n')).toBe(8);
    expect(await sink.write('{"b":"é"}\n')).toBe(11);
    expect(readFileSync(target, 'utf8')).toBe('the previous export\n');
    expect(readdirSync(dir)).toEqual(['.log.ndjson.' + process.pid + '.partial', 'log.ndjson'].sort());
    await sink.commit();
    expect(readFileSync(target, 'utf8')).toBe('{"a":1}\n{"b":"é"}\n');
    expect(readdirSync(dir)).toEqual(['log.ndjson']);
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });

  it('leaves nothing behind when abandoned', async () => {
    const target = join(dir, 'abandoned.ndjson');
    const sink = await atomicFileSink(target);
    await sink.write('{"a":1}\n');
    await sink.abort();
    expect(readdirSync(dir).filter((name) => name.includes('abandoned'))).toEqual([]);
  });

  it('says why it cannot write', async () => {
    await expect(atomicFileSink(join(dir, 'missing', 'x.ndjson'))).rejects.toThrow(CommandFailure);
    await expect(atomicFileSink(join(dir, 'missing', 'x.ndjson'))).rejects.toThrow(/^cannot write .*x\.ndjson: ENOENT/);
  });
});
