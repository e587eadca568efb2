import { bar, duration, figures, Progress } from './progress';

const recorder = (isTTY: boolean) => {
  const written: string[] = [];
  return { written, output: { isTTY, columns: 120, write: (text: string) => written.push(text) } };
};

describe('progress of a replay', () => {
  it('computes done of total, the rate since the start and the time left', () => {
    expect(figures(250_000, 1_000_000, 5)).toEqual({ done: 250_000, total: 1_000_000, fraction: 0.25, perSecond: 50_000, etaSeconds: 15 });
    expect(figures(0, 0, 0)).toMatchObject({ fraction: 1, perSecond: 0, etaSeconds: Infinity });
    expect(figures(12, 10, 1).fraction).toBe(1);
  });

  it('formats durations and bars', () => {
    expect([duration(0.4), duration(59), duration(61), duration(3725), duration(Infinity)]).toEqual(['0s', '59s', '1m01s', '1h02m', '?']);
    expect(bar(0.5, 10)).toBe('[#####-----]');
    expect(bar(1, 4)).toBe('[####]');
  });

  it('given a narrow terminal, shortens the bar so that the figures fit', () => {
    const written: string[] = [];
    let now = 0;
    const progress = new Progress('rebuild', { isTTY: true, columns: 80, write: (text) => written.push(text) }, { now: () => now });
    now = 1000;
    progress.update(54_000, 100_000);
    expect(written[0]).toHaveLength(80);
    expect(written[0]).toMatch(/^\rrebuild \[#+-+\] 54,000\/100,000 events \(54%\), 54,000 events\/s, ETA 1s *$/);
  });

  it('given a terminal, redraws one bar in place at most every 100 ms, then ends the line', () => {
    let now = 0;
    const { written, output } = recorder(true);
    const progress = new Progress('rebuild', output, { now: () => now });
    now = 1000;
    progress.update(50_000, 200_000);
    now = 1050;
    progress.update(52_000, 200_000); // within 100 ms of the last redraw: not drawn
    now = 2000;
    progress.update(100_000, 200_000);
    progress.finish('build-status live');
    expect(written).toHaveLength(3);
    expect(written[0]).toMatch(/^\rrebuild \[#{8}-{22}\] 50,000\/200,000 events \(25%\), 50,000 events\/s, ETA 3s +$/);
    expect(written[1]).toContain('100,000/200,000 events (50%), 50,000 events/s, ETA 2s');
    expect(written[0]).toHaveLength(120);
    expect(written[2]).toBe('\nrebuild: build-status live in 2s\n'); // the last figures were already drawn
  });

  it('given no terminal, writes plain lines at most every interval, without carriage returns', () => {
    let now = 0;
    const { written, output } = recorder(false);
    const progress = new Progress('verify', output, { now: () => now, lineIntervalMs: 1000 });
    for (let done = 0; done <= 100; done += 10) {
      now = done * 30;
      progress.update(done, 100);
    }
    progress.finish();
    expect(written).toEqual([
      'verify: 0/100 events (0%), 0 events/s, ETA ?\n',
      'verify: 40/100 events (40%), 33 events/s, ETA 2s\n',
      'verify: 80/100 events (80%), 33 events/s, ETA 1s\n',
      'verify: 100/100 events (100%), 33 events/s, ETA 0s\n',
      'verify: done in 3s\n',
    ]);
  });
});
