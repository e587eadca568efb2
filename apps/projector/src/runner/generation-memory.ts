import { StoredDocument } from '../read-store/read-store.port';

/** Documents remembered as written, per projection, before the older half is forgotten. */
const DEFAULT_RECENT_DOCUMENTS = 5_000;

type Written = ReadonlyMap<string, { doc: unknown | null; lastPosition: number }>;

/**
 * What a rebuild runner knows of one generation it fills: it created the generation empty and is
 * its only writer, so a document it never wrote is absent, and a document it wrote recently is what
 * it wrote. Only a document written long ago (forgotten to bound memory) must be read back.
 *
 * This spares a rebuild the read of every document it touches: events of one document lie close
 * together in the log, and statistics documents are touched all the time. It also lets the runner
 * fold the next batch while the previous one is still being committed.
 */
export class GenerationMemory {
  private recent = new Map<string, StoredDocument | null>();
  private older = new Map<string, StoredDocument | null>();
  private readonly written = new Set<string>();

  constructor(private readonly recentLimit = DEFAULT_RECENT_DOCUMENTS) {}

  /** The document as written (null: absent), or undefined when it must be read from the store. */
  recall(id: string): StoredDocument | null | undefined {
    const recent = this.recent.get(id); // null (deleted) is an answer too; undefined is not
    if (recent !== undefined) return recent;
    const older = this.older.get(id);
    if (older !== undefined) return older;
    return this.written.has(id) ? undefined : null;
  }

  /** What a batch wrote (a null doc: deleted). */
  remember(documents: Written): void {
    for (const [id, written] of documents) {
      this.written.add(id);
      this.recent.set(id, written.doc === null ? null : written);
    }
    if (this.recent.size >= this.recentLimit) {
      this.older = this.recent;
      this.recent = new Map();
    }
  }
}
