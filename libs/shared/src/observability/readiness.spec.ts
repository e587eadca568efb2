import { assessReadiness } from './readiness';

const answers = (detail: string) => async () => detail;
const fails = (message: string) => async (): Promise<string> => {
  throw new Error(message);
};
const never = () => new Promise<string>(() => undefined);

describe('assessReadiness', () => {
  it('given every check and one member of each group answering, then ready', async () => {
    const report = await assessReadiness('orchestrator', [
      { name: 'event-store', probe: answers('head at 3') },
      { name: 'backends', anyOf: [{ name: 'backend:a', probe: fails('no socket') }, { name: 'backend:b', probe: answers('OK') }] },
    ], 1000);
    expect(report).toMatchObject({ status: 'ready', app: 'orchestrator', failed: [] });
    expect(report.checks.map(({ name, ok }) => ({ name, ok }))).toEqual([
      { name: 'event-store', ok: true },
      { name: 'backend:a', ok: false },
      { name: 'backend:b', ok: true },
    ]);
  });

  it('given a group none of whose members answers and a check that times out, then not ready, naming both', async () => {
    const report = await assessReadiness('orchestrator', [
      { name: 'event-store', probe: never },
      { name: 'backends', anyOf: [{ name: 'backend:x', probe: fails('connect ENOENT /nonexistent.sock') }] },
    ], 20);
    expect(report.status).toBe('not-ready');
    expect(report.failed).toEqual(['event-store', 'backends']);
    expect(report.checks).toEqual([
      expect.objectContaining({ name: 'event-store', ok: false, detail: 'no answer within 20 ms' }),
      expect.objectContaining({ name: 'backend:x', ok: false, detail: 'connect ENOENT /nonexistent.sock' }),
    ]);
  });
});
