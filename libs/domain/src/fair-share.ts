/** A queued build that may start now (its notBefore has passed). */
export type ReadyBuild = Readonly<{
  buildId: string;
  org: string;
  priority: number;
  /** Global position of its BuildQueued: first come, first served within a priority. */
  queuedPosition: number;
  /** Where it would run: the backend of its previous attempt, or null for the first preference. */
  homeBackend: string | null;
}>;

export type OrgShare = Readonly<{ maxRunning: number; weight: number }>;

/** A backend in order of preference, with its free slots now; `unusable` says why it takes nothing (circuit, drain). */
export type BackendSlots = Readonly<{ name: string; free: number; unusable: string | null }>;

export type Assignment = Readonly<{ buildId: string; org: string; backend: string; fallback: Readonly<{ from: string; reason: string }> | null }>;

export type FairShareInput = Readonly<{
  ready: readonly ReadyBuild[];
  /** Builds running (or being claimed) per org, across every backend and instance. */
  runningByOrg: ReadonlyMap<string, number>;
  shareOf: (org: string) => OrgShare;
  backends: readonly BackendSlots[];
}>;

const byPriorityThenAge = (a: ReadyBuild, b: ReadyBuild) => b.priority - a.priority || a.queuedPosition - b.queuedPosition;

/**
 * Chooses which ready builds start now, and where. Pure.
 *
 * - Weighted fair sharing across orgs: each free slot goes to the org with the fewest running
 *   builds per unit of weight (ties: the org whose next build in line was queued first), so an org
 *   with a storm of rebuilds gets its share and no more while others wait.
 * - Per-org limits: an org never runs more than its `maxRunning`.
 * - Priorities order builds within an org (an org cannot jump others by raising its own priority).
 * - A build goes to its home backend (its previous attempt's, else the first in preference order)
 *   when that has a free slot; when the home is unusable it falls back to the next usable backend
 *   and the move is returned with its reason; when the home is merely full it spills over with no
 *   fallback (that is load sharing, not a failure).
 */
export const assignFairly = (input: FairShareInput): Assignment[] => {
  const preferred = input.backends[0]?.name ?? null;
  const free = new Map(input.backends.map((backend) => [backend.name, backend.unusable === null ? backend.free : 0]));
  const byName = new Map(input.backends.map((backend) => [backend.name, backend]));
  const queues = new Map<string, ReadyBuild[]>();
  for (const build of input.ready) {
    const queue = queues.get(build.org);
    if (queue) queue.push(build);
    else queues.set(build.org, [build]);
  }
  for (const queue of queues.values()) queue.sort(byPriorityThenAge);
  const running = new Map(input.runningByOrg);
  const assignments: Assignment[] = [];
  const totalFree = () => [...free.values()].reduce((sum, slots) => sum + slots, 0);

  while (totalFree() > 0) {
    let chosen: { org: string; load: number; head: ReadyBuild } | null = null;
    for (const [org, queue] of queues) {
      const share = input.shareOf(org);
      const current = running.get(org) ?? 0;
      if (queue.length === 0 || current >= share.maxRunning) continue;
      const load = current / share.weight;
      const head = queue[0];
      if (!chosen || load < chosen.load || (load === chosen.load && head.queuedPosition < chosen.head.queuedPosition)) chosen = { org, load, head };
    }
    if (!chosen) break;
    const build = queues.get(chosen.org)!.shift()!;
    const home = build.homeBackend ?? preferred!;
    const homeSlots = byName.get(home);
    let backend: string | undefined;
    let fallback: Assignment['fallback'] = null;
    if (homeSlots && (free.get(home) ?? 0) > 0) {
      backend = home;
    } else {
      backend = input.backends.find((candidate) => (free.get(candidate.name) ?? 0) > 0)?.name;
      if (!homeSlots) fallback = { from: home, reason: `backend ${home} is no longer configured` };
      else if (homeSlots.unusable !== null) fallback = { from: home, reason: homeSlots.unusable };
    }
    if (backend === undefined) break;
    free.set(backend, free.get(backend)! - 1);
    running.set(chosen.org, (running.get(chosen.org) ?? 0) + 1);
    assignments.push({ buildId: build.buildId, org: build.org, backend, fallback });
  }
  return assignments;
};

/** Jain's fairness index of shares: 1 when all are equal, 1/n when one takes everything. */
export const jainIndex = (shares: readonly number[]): number => {
  if (shares.length === 0) return 1;
  const sum = shares.reduce((a, b) => a + b, 0);
  const squares = shares.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (shares.length * squares);
};
