import { dashboardOrigin } from './dashboard-cors';

describe('the origin allowed to read build logs across origins', () => {
  it.each([
    ['the dashboard on the same host, at the projector port', 'http://127.0.0.1:3001', '127.0.0.1:3000', 'http://127.0.0.1:3001'],
    ['the same, by name', 'http://localhost:3001', 'localhost:3000', 'http://localhost:3001'],
  ])('allows %s', (_, origin, host, allowed) => {
    expect(dashboardOrigin(origin, host, 3001)).toBe(allowed);
  });

  it.each([
    ['no Origin (same origin, curl)', undefined, '127.0.0.1:3000'],
    ['another port', 'http://127.0.0.1:8080', '127.0.0.1:3000'],
    ['another host at the projector port', 'http://evil.example:3001', '127.0.0.1:3000'],
    ['another scheme', 'https://127.0.0.1:3001', '127.0.0.1:3000'],
    ['a malformed Origin', 'not a url', '127.0.0.1:3000'],
    ['no Host', 'http://127.0.0.1:3001', undefined],
  ])('refuses %s', (_, origin, host) => {
    expect(dashboardOrigin(origin, host, 3001)).toBeNull();
  });
});
