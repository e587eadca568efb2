import { ConfigError, loadConfig } from '@lib/shared';
import { describeReadStoreConformance } from './conformance/read-store.conformance';
import { PostgresReadStore } from './postgres-read-store';
import { readStoreLocation } from './read-store.factory';
import { readStoreFixtures, TEST_READ_STORE_URL } from './testing/read-store-fixtures';

/** Needs the PostgreSQL of `scripts/services.sh up` (or TEST_READ_STORE_URL); fails saying so otherwise. */
const postgres = readStoreFixtures().find((fixture) => fixture.name === 'PostgreSQL')!;
describeReadStoreConformance(postgres);

describe('PostgreSQL read store: selection and connection', () => {
  beforeAll(() => postgres.ready());

  it('is selected by READ_STORE_URL, SQLite under DATA_DIR otherwise', () => {
    expect(readStoreLocation(loadConfig({ DATA_DIR: '/srv/data' }))).toBe('/srv/data/read-models.sqlite');
    const url = 'postgres://reader:secret@db.internal:5432/read_models?schema=projector';
    expect(readStoreLocation(loadConfig({ READ_STORE_URL: url }))).toBe(url);
  });

  it.each([
    ['mysql://u:p@127.0.0.1/db', 'must start with postgres:// or postgresql://'],
    ['postgres://u:p@127.0.0.1:5433', 'must name a database'],
    ['postgres://u:p@127.0.0.1:5433/db?schema=Bad-Name', 'schema must be lower-case letters'],
    ['not a url', 'must be a URL like postgres://'],
  ])('given READ_STORE_URL=%s, stops the start naming the variable (%s) without showing the password', (value, message) => {
    let thrown: unknown;
    try {
      loadConfig({ READ_STORE_URL: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems.map((p) => p.variable)).toEqual(['READ_STORE_URL']);
    expect((thrown as ConfigError).message).toContain(message);
    expect((thrown as ConfigError).message).not.toContain(':p@');
  });

  it('given a server that refuses the connection, fails naming the URL without its password', async () => {
    // Port 1 on loopback: nothing listens there.
    const refused = PostgresReadStore.connect({ url: 'postgres://reader:secret@127.0.0.1:1/read_models' });
    await expect(refused).rejects.toThrow('cannot use the PostgreSQL read store at postgres://reader:***@127.0.0.1:1/read_models');
    await expect(refused).rejects.not.toThrow('secret');
  });

  it('given a wrong password, fails saying so', async () => {
    const url = new URL(TEST_READ_STORE_URL);
    url.password = 'wrong';
    await expect(PostgresReadStore.connect({ url: url.toString() })).rejects.toThrow(/password authentication failed/);
  });
});
