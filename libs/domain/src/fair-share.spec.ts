import { Assignment, BackendSlots, FairShareInput, OrgShare, ReadyBuild, assignFairly, jainIndex } from './fair-share';

const DEFAULT_SHARE: OrgShare = { maxRunning: 100, weight: 1 };

/** `count` ready builds of `org`, queued at positions `from`, `from + 1`…; ids `<org>-<position>`. */
const ready = (org: string, count: number, from: number, overrides: Partial<ReadyBuild> = {}): ReadyBuild[] =>
  Array.from({ length: count }, (_, i) => ({ buildId: `${org}-${from + i}`, org, priority: 0, queuedPosition: from + i, homeBackend: null, ...overrides }));
const one = (org: string, position: number, overrides: Partial<ReadyBuild> = {}): ReadyBuild => ready(org, 1, position, overrides)[0];
const backend = (name: string, free: number, unusable: string | null = null): BackendSlots => ({ name, free, unusable });

type Scenario = Readonly<{
  ready: readonly ReadyBuild[];
  backends: readonly BackendSlots[];
  running?: Record<string, number>;
  shares?: Record<string, Partial<OrgShare>>;
}>;
const inputOf = ({ ready: builds, backends, running = {}, shares = {} }: Scenario): FairShareInput => ({
  ready: builds,
  runningByOrg: new Map(Object.entries(running)),
  shareOf: (org) => ({ ...DEFAULT_SHARE, ...shares[org] }),
  backends,
});
const assign = (scenario: Scenario) => assignFairly(inputOf(scenario));

const perOrg = (assignments: readonly Assignment[]): Record<string, number> =>
  assignments.reduce<Record<string, number>>((counts, { org }) => ({ ...counts, [org]: (counts[org] ?? 0) + 1 }), {});
const ids = (assignments: readonly Assignment[]) => assignments.map((assignment) => assignment.buildId);

const SMALL_ORGS = ['initech', 'hooli', 'globex', 'umbrella'];
/** One org with 100 ready builds queued first, four orgs with 2 each queued after them. */
const storm = (): ReadyBuild[] => [...ready('acme', 100, 0), ...SMALL_ORGS.flatMap((org, i) => ready(org, 2, 100 + 2 * i))];

describe('assignFairly: fairness across orgs', () => {
  it('gives one slot to each org when an org with a storm of builds and four small orgs share 5 slots', () => {
    const assignments = assign({ ready: storm(), backends: [backend('docker-primary', 5)] });
    expect(perOrg(assignments)).toStrictEqual({ acme: 1, initech: 1, hooli: 1, globex: 1, umbrella: 1 });
    expect(ids(assignments)).toEqual(['acme-0', 'initech-100', 'hooli-102', 'globex-104', 'umbrella-106']);
    expect(jainIndex(Object.values(perOrg(assignments)))).toBe(1);
  });

  it('counts the builds an org already runs: the storm waits while the others catch up', () => {
    const assignments = assign({ ready: storm(), backends: [backend('docker-primary', 8)], running: { acme: 3 } });
    expect(perOrg(assignments)).toStrictEqual({ initech: 2, hooli: 2, globex: 2, umbrella: 2 });
  });

  it('gives the storm what the others leave', () => {
    const assignments = assign({ ready: storm(), backends: [backend('docker-primary', 20)] });
    expect(perOrg(assignments)).toStrictEqual({ acme: 12, initech: 2, hooli: 2, globex: 2, umbrella: 2 });
    expect(ids(assignments).filter((id) => id.startsWith('acme'))).toEqual(Array.from({ length: 12 }, (_, i) => `acme-${i}`));
  });

  it('shares slots in proportion to weight', () => {
    const assignments = assign({
      ready: [...ready('acme', 10, 0), ...ready('globex', 10, 10)],
      backends: [backend('docker-primary', 6)],
      shares: { acme: { weight: 2 }, globex: { weight: 1 } },
    });
    expect(perOrg(assignments)).toStrictEqual({ acme: 4, globex: 2 });
  });

  it('weighs the builds already running too', () => {
    const assignments = assign({
      ready: [...ready('acme', 10, 0), ...ready('globex', 10, 10)],
      backends: [backend('docker-primary', 3)],
      running: { acme: 4, globex: 1 },
      shares: { acme: { weight: 4 }, globex: { weight: 1 } },
    });
    // Loads before: acme 4/4 = 1, globex 1/1 = 1; after: acme 6/4, globex 2/1.
    expect(perOrg(assignments)).toStrictEqual({ acme: 2, globex: 1 });
  });

  it('breaks a tie in favour of the org whose next build waited longest, whatever the input order', () => {
    const builds = [one('globex', 7), one('acme', 3), one('initech', 5)];
    expect(ids(assign({ ready: builds, backends: [backend('docker-primary', 1)] }))).toEqual(['acme-3']);
    expect(ids(assign({ ready: [...builds].reverse(), backends: [backend('docker-primary', 1)] }))).toEqual(['acme-3']);
  });
});

describe('assignFairly: fairness over time (many rounds, more orgs waiting than slots)', () => {
  /**
   * The benchmark's situation, modelled: 6 slots; one org queued 500 builds first, then 49 orgs
   * queued 10 each. Each round one running build ends (the oldest) and the freed slot is assigned
   * again. Contention lasts until the first org has had all its builds started.
   */
  const simulate = (useLastStart: boolean) => {
    const queue: ReadyBuild[] = [...ready('bigcorp', 500, 0), ...Array.from({ length: 49 }, (_, i) => ready(`org${i}`, 10, 1000 + 10 * i)).flat()];
    const waiting = new Map<string, number>([['bigcorp', 500], ...Array.from({ length: 49 }, (_, i): [string, number] => [`org${i}`, 10])]);
    const running: { org: string }[] = [];
    const lastStart = new Map<string, number>();
    const starts = new Map<string, number>();
    let position = 10_000;
    while ([...waiting.values()].every((count) => count > 0)) {
      const runningByOrg = new Map<string, number>();
      for (const { org } of running) runningByOrg.set(org, (runningByOrg.get(org) ?? 0) + 1);
      const assignments = assignFairly({
        ready: queue, runningByOrg, shareOf: () => ({ maxRunning: 4, weight: 1 }), backends: [backend('b', 6 - running.length)],
        ...(useLastStart ? { lastStartOf: (org: string) => lastStart.get(org) ?? 0 } : {}),
      });
      for (const assignment of assignments) {
        queue.splice(queue.findIndex((build) => build.buildId === assignment.buildId), 1);
        running.push({ org: assignment.org });
        lastStart.set(assignment.org, position++);
        starts.set(assignment.org, (starts.get(assignment.org) ?? 0) + 1);
        waiting.set(assignment.org, waiting.get(assignment.org)! - 1);
      }
      running.shift();
    }
    const shares = [...waiting.keys()].map((org) => starts.get(org) ?? 0);
    return { jain: jainIndex(shares), bigcorp: (starts.get('bigcorp') ?? 0) / shares.reduce((a, b) => a + b, 0) };
  };

  it('lets the orgs take turns: Jain\'s index over the starts during contention is at least 0.95, and the storm gets about its 1/50', () => {
    const { jain, bigcorp } = simulate(true);
    expect(jain).toBeGreaterThanOrEqual(0.95);
    expect(bigcorp).toBeLessThan(0.04);
  });

  it('without knowing who was served last, the org that queued first keeps a slot to itself (why lastStartOf exists)', () => {
    const { jain, bigcorp } = simulate(false);
    expect(jain).toBeLessThan(0.9);
    expect(bigcorp).toBeGreaterThan(0.1);
  });

  it('gives a tie to the org served least recently, then to the older next build', () => {
    const assignments = assignFairly({
      ready: [one('acme', 1), one('globex', 2), one('initech', 3)], runningByOrg: new Map(), shareOf: () => DEFAULT_SHARE, backends: [backend('b', 2)],
      lastStartOf: (org) => ({ acme: 900, globex: 0, initech: 0 })[org] ?? 0,
    });
    expect(perOrg(assignments)).toEqual({ globex: 1, initech: 1 });
  });
});

describe('assignFairly: per-org limits', () => {
  it('never runs more than maxRunning, counting the builds already running', () => {
    const assignments = assign({ ready: ready('acme', 5, 0), backends: [backend('docker-primary', 10)], running: { acme: 1 }, shares: { acme: { maxRunning: 3 } } });
    expect(ids(assignments)).toEqual(['acme-0', 'acme-1']);
  });

  it.each([
    ['at its limit', { acme: 3 }, 3],
    ['over its limit (the limit was lowered)', { acme: 5 }, 3],
    ['with a limit of 0', {}, 0],
  ])('starts nothing for an org %s, and gives the slots to others', (_, running, maxRunning) => {
    const assignments = assign({
      ready: [...ready('acme', 5, 0), ...ready('globex', 1, 10)],
      backends: [backend('docker-primary', 10)],
      running,
      shares: { acme: { maxRunning } },
    });
    expect(ids(assignments)).toEqual(['globex-10']);
  });
});

describe('assignFairly: priorities', () => {
  it('orders builds within an org by priority, then by age', () => {
    const builds = [one('acme', 0), one('acme', 1, { priority: 5 }), one('acme', 2, { priority: 5 }), one('acme', 3, { priority: 1 })];
    expect(ids(assign({ ready: builds, backends: [backend('docker-primary', 3)] }))).toEqual(['acme-1', 'acme-2', 'acme-3']);
  });

  it('does not let an org jump another by raising its own priority', () => {
    const builds = [one('acme', 0), one('globex', 5, { priority: 100 })];
    expect(ids(assign({ ready: builds, backends: [backend('docker-primary', 1)] }))).toEqual(['acme-0']);
  });
});

describe('assignFairly: backends', () => {
  const backends = [backend('docker-primary', 2), backend('docker-secondary', 2)];

  it('sends a build to its home backend, else to the first backend', () => {
    const assignments = assign({ ready: [one('acme', 0, { homeBackend: 'docker-secondary' }), one('acme', 1)], backends });
    expect(assignments).toStrictEqual([
      { buildId: 'acme-0', org: 'acme', backend: 'docker-secondary', fallback: null },
      { buildId: 'acme-1', org: 'acme', backend: 'docker-primary', fallback: null },
    ]);
  });

  it('spills over to the next backend with free slots when the home is full, without a fallback', () => {
    const assignments = assign({ ready: ready('acme', 3, 0, { homeBackend: 'docker-primary' }), backends: [backend('docker-primary', 1), backend('docker-secondary', 2)] });
    expect(assignments).toStrictEqual([
      { buildId: 'acme-0', org: 'acme', backend: 'docker-primary', fallback: null },
      { buildId: 'acme-1', org: 'acme', backend: 'docker-secondary', fallback: null },
      { buildId: 'acme-2', org: 'acme', backend: 'docker-secondary', fallback: null },
    ]);
  });

  it.each([
    ['its previous attempt', 'docker-primary'],
    ['the first preference', null],
  ])('falls back, with the reason, when the home backend (%s) is unusable', (_, homeBackend) => {
    const assignments = assign({
      ready: [one('acme', 0, { homeBackend })],
      backends: [backend('docker-primary', 5, 'circuit of docker-primary is open'), backend('docker-secondary', 1)],
    });
    expect(assignments).toStrictEqual([
      { buildId: 'acme-0', org: 'acme', backend: 'docker-secondary', fallback: { from: 'docker-primary', reason: 'circuit of docker-primary is open' } },
    ]);
  });

  it('falls back to the first usable backend that has a free slot, in order of preference', () => {
    const assignments = assign({
      ready: [one('acme', 0, { homeBackend: 'docker-secondary' })],
      backends: [backend('docker-primary', 0), backend('docker-secondary', 3, 'docker-secondary is drained'), backend('docker-tertiary', 0), backend('docker-spare', 1)],
    });
    expect(assignments).toStrictEqual([
      { buildId: 'acme-0', org: 'acme', backend: 'docker-spare', fallback: { from: 'docker-secondary', reason: 'docker-secondary is drained' } },
    ]);
  });

  it('falls back from a home backend that is no longer configured', () => {
    expect(assign({ ready: [one('acme', 0, { homeBackend: 'docker-retired' })], backends })).toStrictEqual([
      { buildId: 'acme-0', org: 'acme', backend: 'docker-primary', fallback: { from: 'docker-retired', reason: 'backend docker-retired is no longer configured' } },
    ]);
  });

  it('never uses the free slots of an unusable backend', () => {
    const assignments = assign({ ready: ready('acme', 5, 0), backends: [backend('docker-primary', 5, 'drained'), backend('docker-secondary', 1)] });
    expect(assignments.map((a) => a.backend)).toEqual(['docker-secondary']);
  });

  it.each([
    ['every backend is unusable', [backend('docker-primary', 3, 'drained'), backend('docker-secondary', 3, 'circuit open')]],
    ['every backend is full', [backend('docker-primary', 0), backend('docker-secondary', 0)]],
    ['no backend is configured', []],
  ])('assigns nothing when %s', (_, none) => {
    expect(assign({ ready: storm(), backends: none })).toEqual([]);
  });

  it('assigns nothing when nothing is ready, and each ready build once when slots abound', () => {
    expect(assign({ ready: [], backends })).toEqual([]);
    expect(ids(assign({ ready: ready('acme', 3, 0), backends: [backend('docker-primary', 50)] }))).toEqual(['acme-0', 'acme-1', 'acme-2']);
  });

  it('changes none of its inputs', () => {
    const builds = Object.freeze([one('acme', 1, { priority: 1 }), one('acme', 0)].map((b) => Object.freeze(b)));
    const slots = Object.freeze(backends.map((b) => Object.freeze(b)));
    const input = inputOf({ ready: builds, backends: slots, running: { acme: 1 } });
    assignFairly(input);
    expect(ids(assignFairly(input))).toEqual(['acme-1', 'acme-0']);
    expect([...input.runningByOrg]).toEqual([['acme', 1]]);
  });
});

describe('jainIndex', () => {
  it.each([
    ['no shares', [], 1],
    ['equal shares', [3, 3, 3, 3], 1],
    ['nothing for anyone', [0, 0, 0], 1],
    ['one of 4 takes all', [7, 0, 0, 0], 0.25],
    ['one of 2 takes all', [1, 0], 0.5],
    ['1 and 2', [1, 2], 0.9],
  ])('%s gives %p', (_, shares, expected) => {
    expect(jainIndex(shares)).toBeCloseTo(expected, 10);
  });

  it('lies between 1/n and 1', () => {
    const index = jainIndex([5, 1, 2, 9, 0]);
    expect(index).toBeGreaterThan(1 / 5);
    expect(index).toBeLessThan(1);
  });
});

// ---------------------------------------------------------------- properties over random inputs

/** mulberry32: a small seeded PRNG, so that a failing case can be replayed from its seed. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const randomScenario = (seed: number) => {
  const random = prng(seed);
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const pick = <T>(values: readonly T[]): T => values[int(0, values.length - 1)];
  const orgs = Array.from({ length: int(1, 6) }, (_, i) => `org-${i}`);
  const shares = new Map(orgs.map((org): [string, OrgShare] => [org, { maxRunning: int(0, 6), weight: pick([0.5, 1, 2, 3]) }]));
  const running = new Map(orgs.filter(() => random() < 0.6).map((org): [string, number] => [org, int(0, 8)]));
  const backends = Array.from({ length: int(0, 4) }, (_, i) => backend(`backend-${i}`, int(0, 5), random() < 0.25 ? `backend-${i} is drained` : null));
  const homes = [null, 'backend-retired', ...backends.map((b) => b.name)];
  const builds = Array.from({ length: int(0, 30) }, (_, i): ReadyBuild => ({
    buildId: `b-${i}`, org: pick(orgs), priority: int(0, 3), queuedPosition: int(0, 1000) * 100 + i, homeBackend: pick(homes),
  }));
  const input: FairShareInput = { ready: builds, runningByOrg: running, shareOf: (org) => shares.get(org)!, backends };
  return { input, shares, running, backends, builds };
};

describe('assignFairly: properties over 500 random inputs', () => {
  const SEEDS = Array.from({ length: 500 }, (_, i) => i + 1);
  const cases = SEEDS.map((seed) => {
    const scenario = randomScenario(seed);
    return { seed, ...scenario, assignments: assignFairly(scenario.input) };
  });
  const byOrg = <T>(values: readonly T[], org: (value: T) => string) => (name: string) => values.filter((value) => org(value) === name).length;
  type Case = (typeof cases)[number];
  /** Runs `check` on every case; a failure names the seed, so that it can be replayed alone. */
  const everyCase = (check: (c: Case) => void) => {
    for (const c of cases) {
      try {
        check(c);
      } catch (error) {
        throw new Error(`seed ${c.seed}: ${(error as Error).message}`);
      }
    }
  };

  it('exercises assignments, spill-overs and fallbacks (the inputs are not trivial)', () => {
    const assignments = cases.flatMap((c) => c.assignments);
    expect(cases.filter((c) => c.assignments.length > 0).length).toBeGreaterThan(250);
    expect(assignments.filter((a) => a.fallback?.reason.endsWith('no longer configured')).length).toBeGreaterThan(20);
    expect(assignments.filter((a) => a.fallback?.reason.endsWith('is drained')).length).toBeGreaterThan(20);
    expect(cases.some((c) => c.assignments.length > 0 && c.assignments.length < c.builds.length)).toBe(true);
  });

  it('only ready builds, each once, with their own org', () => everyCase(({ builds, assignments }) => {
    const readyById = new Map(builds.map((b) => [b.buildId, b]));
    expect(new Set(ids(assignments)).size).toBe(assignments.length);
    for (const a of assignments) expect(readyById.get(a.buildId)?.org).toBe(a.org);
  }));

  it('no org over maxRunning, no backend over its free slots', () => everyCase(({ assignments, shares, running, backends }) => {
    const assigned = byOrg(assignments, (a) => a.org);
    for (const [org, share] of shares) expect(assigned(org)).toBeLessThanOrEqual(Math.max(0, share.maxRunning - (running.get(org) ?? 0)));
    for (const slots of backends) {
      expect(assignments.filter((a) => a.backend === slots.name).length).toBeLessThanOrEqual(slots.unusable === null ? slots.free : 0);
    }
    for (const a of assignments) expect(backends.map((b) => b.name)).toContain(a.backend);
  }));

  it('leaves no usable slot free while an org below its limit has a ready build', () => everyCase(({ assignments, shares, running, backends, builds }) => {
    const usableFree = backends.reduce((sum, b) => sum + (b.unusable === null ? b.free : 0), 0);
    const assignedIds = new Set(ids(assignments));
    const assigned = byOrg(assignments, (a) => a.org);
    const waiting = builds.filter((b) => !assignedIds.has(b.buildId) && (running.get(b.org) ?? 0) + assigned(b.org) < shares.get(b.org)!.maxRunning);
    if (waiting.length > 0) expect(assignments.length).toBe(usableFree);
  }));

  it('falls back only from an unusable or unconfigured home, and names it', () => everyCase(({ assignments, builds, backends }) => {
    for (const a of assignments) {
      const home = builds.find((b) => b.buildId === a.buildId)!.homeBackend ?? backends[0].name;
      const homeSlots = backends.find((b) => b.name === home);
      if (!homeSlots) expect(a.fallback).toStrictEqual({ from: home, reason: `backend ${home} is no longer configured` });
      else if (homeSlots.unusable !== null) expect(a.fallback).toStrictEqual({ from: home, reason: homeSlots.unusable });
      else expect(a.fallback).toBeNull();
    }
  }));

  it("starts each org's builds in order of priority, then age", () => everyCase(({ assignments, builds }) => {
    const assignedIds = new Set(ids(assignments));
    for (const org of new Set(builds.map((b) => b.org))) {
      const queue = builds.filter((b) => b.org === org).sort((a, b) => b.priority - a.priority || a.queuedPosition - b.queuedPosition);
      const taken = queue.filter((b) => assignedIds.has(b.buildId)).length;
      expect(queue.slice(0, taken).every((b) => assignedIds.has(b.buildId))).toBe(true);
    }
  }));
});
