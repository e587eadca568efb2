import { readdirSync } from 'node:fs';
import { ASSETS_DIR, chartJs, dashboardAsset } from './dashboard-files';

describe("the dashboard's files", () => {
  it('serves every committed asset with its content type', async () => {
    const names = readdirSync(ASSETS_DIR);
    expect(names).toEqual(expect.arrayContaining(['index.html', 'app.js', 'style.css']));
    for (const name of names) {
      const file = await dashboardAsset(name);
      expect(file.contentType).toMatch(name.endsWith('.html') ? /^text\/html/ : name.endsWith('.css') ? /^text\/css/ : /^text\/javascript/);
      expect(file.body.length).toBeGreaterThan(0);
    }
  });

  it('serves Chart.js from its package', async () => {
    const file = await chartJs();
    expect(file.body.toString('utf8', 0, 400)).toContain('Chart.js v4');
  });

  it.each(['../dashboard.controller.ts', '..%2Fdashboard-files.ts', 'missing.js', 'index.HTML', '.hidden.js', 'app.ts'])('answers 404 to %s', async (name) => {
    await expect(dashboardAsset(name)).rejects.toMatchObject({ status: 404, code: 'not-found' });
  });
});
