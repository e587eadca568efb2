import { ACCOUNT_TYPES, AccountType, FAILURE_CLASSES, FailureClass } from './build.events';
import { IncidentDimension, IncidentImpact, IncidentRule, incidentStream } from './incident.events';
import { BuildMark, Followed, Group, Instant, MarkOutcome, Moment, Reference, Sample, groupValue, isOver, routeKey } from './incident.windows';
import { RouteKind } from './route.events';

/**
 * One open incident of the incident detector (./incident.detector.ts): its milestones so far, whether
 * its figure is under the threshold, and the tally of its impact (attempts, builds and what became of
 * them, accounts, places, failure classes) counted from impact start.
 */

const MAX_TOP_ACCOUNTS = 10;

type Account = { org: string; accountType: AccountType; failedAttempts: number; builds: number };
type Place = { backend: string | null; registryEndpoint: string | null; failedAttempts: number };

const PLACE_DIMENSIONS: Readonly<Partial<Record<IncidentDimension, RouteKind>>> = { backend: 'backend', registryEndpoint: 'registry' };

/** An open incident: its milestones so far and the impact counted from impact start. */
export class OpenIncident {
  readonly stream: string;
  readonly rule: IncidentRule;
  /** For a backend or endpoint incident, the one route it is about; null for the other dimensions. */
  readonly place: string | null;
  /** Routes where its matching attempts ran (the place itself for a backend or endpoint incident). */
  readonly implicated = new Set<string>();
  lastMatching: Moment;
  /** When the figure went under the threshold, after the last time it was at or above; null while over. */
  underSince: Instant | null = null;
  mitigated: Instant | null = null;
  readonly fallbacksSeen = new Set<string>();
  retriesExhaustedSeen = false;
  version = 0;
  emittedVersion = -1;
  lastImpactTime = Number.NEGATIVE_INFINITY;
  // impact
  attempts = 0;
  failedAttempts = 0;
  readonly affected = new Map<BuildMark, Followed>();
  buildsFailed = 0;
  buildsRetried = 0;
  buildsFellBack = 0;
  buildsRecovered = 0;
  readonly accounts = new Map<string, Account>();
  readonly failureClasses = new Map<FailureClass, number>();
  readonly places = new Map<string, Place>();

  constructor(
    readonly id: string,
    readonly group: Group,
    readonly impactStart: Moment,
    readonly detected: Moment,
  ) {
    this.stream = incidentStream(id);
    this.rule = group.rule.rule;
    const kind = PLACE_DIMENSIONS[this.rule.groupBy];
    this.place = kind ? routeKey(kind, group.value) : null;
    if (this.place) this.implicated.add(this.place);
    this.lastMatching = impactStart;
  }

  /** Counts one attempt of the group that ended (or started) while open. */
  record(sample: Sample): void {
    this.attempts++;
    this.version++;
    if (sample.failureClass) this.failureClasses.set(sample.failureClass, (this.failureClasses.get(sample.failureClass) ?? 0) + 1);
    if (!sample.matching || !sample.mark) return;
    this.failedAttempts++;
    this.lastMatching = sample.moment;
    const account = this.accountOf(sample);
    account.failedAttempts++;
    const placeKey = `${sample.backend ?? ''}\u0000${sample.registryEndpoint ?? ''}`;
    const place = this.places.get(placeKey) ?? { backend: sample.backend, registryEndpoint: sample.registryEndpoint, failedAttempts: 0 };
    place.failedAttempts++;
    this.places.set(placeKey, place);
    if (this.place === null) {
      if (sample.backend) this.implicated.add(routeKey('backend', sample.backend));
      if (sample.registryEndpoint) this.implicated.add(routeKey('registry', sample.registryEndpoint));
    }
    this.affect(sample, sample.mark, account);
  }

  /** Notes when the figure went under the threshold (`time`, marked by `ref`), or that it is over again. */
  track(time: number, ref: Reference | null): void {
    if (isOver(this.group)) this.underSince = null;
    else if (this.underSince === null) this.underSince = { time, at: new Date(time).toISOString(), ref };
  }

  private accountOf(sample: Sample): Account {
    const key = `${sample.accountType}\u0000${sample.org}`;
    const account = this.accounts.get(key) ?? { org: sample.org, accountType: sample.accountType, failedAttempts: 0, builds: 0 };
    this.accounts.set(key, account);
    return account;
  }

  /** Counts the build once, with what happened to it since the sample (a retry scheduled before the rule fired counts). */
  private affect(sample: Sample, mark: BuildMark, account: Account): void {
    if (this.affected.has(mark)) return;
    const { position } = sample.moment.ref;
    const followed = { retried: mark.lastRetryPosition > position, fellBack: sample.fellBack || mark.lastFallbackPosition > position };
    this.affected.set(mark, followed);
    mark.refs++;
    mark.incidents.push(this);
    account.builds++;
    this.outcomeChanged(null, mark.outcome);
    if (followed.retried) this.buildsRetried++;
    if (followed.fellBack) this.buildsFellBack++;
  }

  outcomeChanged(before: MarkOutcome | null, after: MarkOutcome): void {
    this.buildsFailed += (after === 'failed' ? 1 : 0) - (before === 'failed' ? 1 : 0);
    this.buildsRecovered += (after === 'recovered' ? 1 : 0) - (before === 'recovered' ? 1 : 0);
    this.version++;
  }

  /** A retry or fallback of an affected build, after it was affected. */
  followed(mark: BuildMark, what: keyof Followed): void {
    const followed = this.affected.get(mark);
    if (!followed || followed[what]) return;
    followed[what] = true;
    if (what === 'retried') this.buildsRetried++;
    else this.buildsFellBack++;
    this.version++;
  }

  /** Whether a build event's build is in this incident's group (accountType, org, all). */
  includes(data: Readonly<Record<string, unknown>>): boolean {
    return this.place === null && groupValue(this.rule.groupBy, data) === this.group.value;
  }

  impact(): IncidentImpact {
    const accounts = [...this.accounts.values()];
    const byType = (type: AccountType) => {
      const of = accounts.filter((account) => account.accountType === type);
      return { accounts: of.length, builds: of.reduce((sum, a) => sum + a.builds, 0), failedAttempts: of.reduce((sum, a) => sum + a.failedAttempts, 0) };
    };
    // Code-point order, not localeCompare: the collation would depend on the ICU build.
    const byName = (a: string | null, b: string | null) => ((a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0);
    const { buildsFailed, buildsRetried, buildsFellBack, buildsRecovered } = this;
    return {
      attempts: this.attempts,
      failedAttempts: this.failedAttempts,
      buildsAffected: this.affected.size,
      buildsFailed,
      buildsRetried,
      buildsFellBack,
      buildsRecovered,
      byAccountType: Object.fromEntries(ACCOUNT_TYPES.map((type) => [type, byType(type)])) as IncidentImpact['byAccountType'],
      failureClasses: Object.fromEntries(FAILURE_CLASSES.filter((c) => this.failureClasses.has(c)).map((c) => [c, this.failureClasses.get(c)])),
      places: [...this.places.values()]
        .sort((a, b) => b.failedAttempts - a.failedAttempts || byName(a.backend, b.backend) || byName(a.registryEndpoint, b.registryEndpoint))
        .map(({ backend, registryEndpoint, failedAttempts }) => ({ backend, registryEndpoint, failedAttempts })),
      topAccounts: accounts
        .sort((a, b) => b.failedAttempts - a.failedAttempts || byName(a.org, b.org) || byName(a.accountType, b.accountType))
        .slice(0, MAX_TOP_ACCOUNTS)
        .map(({ org, accountType, failedAttempts, builds }) => ({ org, accountType, failedAttempts, builds })),
    };
  }
}
