import { AppsUnderTest, http } from './support/apps';

/** Both apps serve their OpenAPI document and Swagger UI to anyone: no token is needed to read the docs. */
describe('the API documentation', () => {
  const apps = new AppsUnderTest();

  beforeAll(async () => {
    await apps.start({ EXECUTOR_ENABLED: 'false' });
  });

  afterAll(() => apps.stop());

  it.each(['orchestrator', 'projector'] as const)('%s serves GET /openapi.json and GET /docs without a token', async (name) => {
    const url = apps[name].url;
    const document = await http('GET', `${url}/openapi.json`, undefined, { authorization: '' });
    expect(document.status).toBe(200);
    expect(document.headers.get('content-type')).toMatch(/^application\/json/);
    expect(document.body.openapi).toMatch(/^3\./);
    expect(document.body.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(Object.keys(document.body.paths).length).toBeGreaterThan(1);

    const ui = await http('GET', `${url}/docs`, undefined, { authorization: '' });
    expect(ui.status).toBe(200);
    expect(ui.headers.get('content-type')).toMatch(/^text\/html/);
    expect(ui.text).toContain('swagger-ui');
    const script = await http('GET', `${url}/docs/swagger-ui-init.js`, undefined, { authorization: '' });
    expect(script.status).toBe(200);
  });

  it('still refuses the API itself without a token', async () => {
    const refused = await http('GET', `${apps.projector.url}/builds`, undefined, { authorization: '' });
    expect(refused.status).toBe(401);
  });
});
