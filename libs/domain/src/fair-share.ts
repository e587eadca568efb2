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
  /**
   * Global position of the org's latest BuildStarted (0 if none): among orgs with the same load,
   * the one served least recently goes first, so that orgs take turns even when more of them wait
   * than there are slots. Absent: every org counts as never served.
   */
  lastStartOf?: (org: string) => number;
}>;

const byPriorityThenAge = (a: ReadyBuild, b: ReadyBuild) => b.priority - a.priority || a.queuedPosition - b.queuedPosition;

/**
 * Chooses which ready builds start now, and where. Pure.
 *
 * - Weighted fair sharing across orgs: each free slot goes to the org with the fewest running
 *   builds per unit of weight; among equals, to the org served least recently (then the one whose
 *   next build was queued first). Orgs take turns, so an org with a storm of rebuilds gets its share
 *   and no more while others wait, however many orgs there are.
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
  const lastStart = new Map<string, number>();
  const lastStartOf = (org: string) => lastStart.get(org) ?? input.lastStartOf?.(org) ?? 0;
  let served = Number.MAX_SAFE_INTEGER - input.ready.length; // later than any position in the log
  const assignments: Assignment[] = [];
  const totalFree = () => [...free.values()].reduce((sum, slots) => sum + slots, 0);

  while (totalFree() > 0) {
    let chosen: { org: string; load: number; last: number; head: ReadyBuild } | null = null;
    for (const [org, queue] of queues) {
      const share = input.shareOf(org);
      const current = running.get(org) ?? 0;
      if (queue.length === 0 || current >= share.maxRunning) continue;
      const candidate = { org, load: current / share.weight, last: lastStartOf(org), head: queue[0] };
      if (!chosen || before(candidate, chosen)) chosen = candidate;
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
    lastStart.set(chosen.org, served++);
    assignments.push({ buildId: build.buildId, org: build.org, backend, fallback });
  }
  return assignments;
};

type Candidate = Readonly<{ load: number; last: number; head: ReadyBuild }>;

/** Lower load first; then served longest ago; then the older next build. */
const before = (a: Candidate, b: Candidate): boolean =>
  a.load !== b.load ? a.load < b.load : a.last !== b.last ? a.last < b.last : a.head.queuedPosition < b.head.queuedPosition;

/** Jain's fairness index of shares: 1 when all are equal, 1/n when one takes everything. */
export const jainIndex = (shares: readonly number[]): number => {
  if (shares.length === 0) return 1;
  const sum = shares.reduce((a, b) => a + b, 0);
  const squares = shares.reduce((a, b) => a + b * b, 0);
  return squares === 0 ? 1 : (sum * sum) / (shares.length * squares);
};
