/** One dependency a ready app needs, and how to ask it whether it answers. */
export type ReadinessCheck = Readonly<{ name: string; probe: () => Promise<string> }>;

export type CheckResult = Readonly<{ name: string; ok: boolean; latencyMs: number; detail: string }>;

/** What GET /health/ready answers, with 200 when `status` is 'ready' and 503 otherwise. */
export type ReadinessReport = Readonly<{ status: 'ready' | 'not-ready'; app: string; checks: CheckResult[]; failed: string[] }>;

/** A group of checks of which at least one must pass (the backends, say); reported as one check per member. */
export type CheckGroup = Readonly<{ name: string; anyOf: readonly ReadinessCheck[] }>;

const withTimeout = <T>(work: Promise<T>, timeoutMs: number): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    work.then(resolve, reject).finally(() => clearTimeout(timer));
  });

const run = async (check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> => {
  const started = performance.now();
  try {
    const detail = await withTimeout(check.probe(), timeoutMs);
    return { name: check.name, ok: true, latencyMs: Math.round(performance.now() - started), detail };
  } catch (error) {
    return { name: check.name, ok: false, latencyMs: Math.round(performance.now() - started), detail: error instanceof Error ? error.message : String(error) };
  }
};

/**
 * Runs every check at once. The app is ready when each single check passes and each group has at
 * least one passing member; `failed` names what is missing (a check, or a group none of whose members answered).
 */
export const assessReadiness = async (app: string, checks: readonly (ReadinessCheck | CheckGroup)[], timeoutMs: number): Promise<ReadinessReport> => {
  const assessed = await Promise.all(
    checks.map(async (check) => ('anyOf' in check ? { group: check.name, results: await Promise.all(check.anyOf.map((member) => run(member, timeoutMs))) } : { group: null, results: [await run(check, timeoutMs)] })),
  );
  const failed = assessed.flatMap(({ group, results }) => {
    if (group !== null) return results.some((result) => result.ok) ? [] : [group];
    return results.filter((result) => !result.ok).map((result) => result.name);
  });
  return { status: failed.length === 0 ? 'ready' : 'not-ready', app, checks: assessed.flatMap(({ results }) => results), failed };
};
