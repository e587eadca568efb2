import { AppConfig, parseReadStoreUrl } from '@lib/shared/config/app-config';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PostgresReadStore } from './postgres-read-store';
import { ReadStore } from './read-store.port';
import { SqliteReadStore } from './sqlite-read-store';

/** A read store is named by its location: a postgres:// URL, or the path of a SQLite file. */
export const isPostgresLocation = (location: string): boolean => /^postgres(ql)?:\/\//.test(location);

export const readModelsPath = (config: AppConfig): string => join(config.DATA_DIR, 'read-models.sqlite');

/** The configured read store's location: READ_STORE_URL, else the SQLite file under DATA_DIR. */
export const readStoreLocation = (config: AppConfig): string => config.READ_STORE_URL ?? readModelsPath(config);

export const openReadStore = async (location: string): Promise<ReadStore> => {
  if (isPostgresLocation(location)) return PostgresReadStore.connect({ url: location });
  mkdirSync(dirname(location), { recursive: true });
  return new SqliteReadStore({ path: location });
};

export const createReadStore = (config: AppConfig): Promise<ReadStore> => openReadStore(readStoreLocation(config));

export type ScratchStore = Readonly<{ store: ReadStore; location: string; remove: () => Promise<void> }>;

/**
 * An empty store of the same kind as `location`, to rebuild into and throw away (verify): a new
 * schema `<schema>_verify_<hex>` in the same database, or a SQLite file in a new directory beside
 * the live file (the same disk, not a tmpfs that may be too small).
 */
export const openScratchStore = async (location: string): Promise<ScratchStore> => {
  const suffix = randomBytes(4).toString('hex');
  if (isPostgresLocation(location)) {
    const url = new URL(location);
    url.searchParams.set('schema', `${parseReadStoreUrl(location).schema}_verify_${suffix}`);
    const scratch = url.toString();
    const store = await PostgresReadStore.connect({ url: scratch });
    return { store, location: scratch, remove: async () => {
      await store.close();
      await PostgresReadStore.dropSchema(scratch);
    } };
  }
  mkdirSync(dirname(location), { recursive: true });
  const dir = mkdtempSync(join(dirname(location), '.verify-'));
  const path = join(dir, 'read-models.sqlite');
  const store = new SqliteReadStore({ path });
  return { store, location: path, remove: async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  } };
};
