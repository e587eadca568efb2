import { ConfigError, loadConfig } from './app-config';

describe('configuration', () => {
  it('given no variables, then it uses the embedded defaults', () => {
    expect(loadConfig({})).toMatchObject({
      DATA_DIR: './data', HOST: '127.0.0.1', PORT: 3000, PROJECTOR_PORT: 3001, SQLITE_SYNCHRONOUS: 'FULL',
      BODY_LIMIT_BYTES: 65536, LOG_FORMAT: 'json',
    });
    expect(loadConfig({}).EVENTSTORE_CONNECTION_STRING).toBeUndefined();
  });

  it('given valid values, then they are parsed and typed', () => {
    const config = loadConfig({ PORT: '8080', PROJECTOR_PORT: '8081', SQLITE_SYNCHRONOUS: 'NORMAL', EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:2113?tls=false' });
    expect(config).toMatchObject({ PORT: 8080, PROJECTOR_PORT: 8081, SQLITE_SYNCHRONOUS: 'NORMAL', EVENTSTORE_CONNECTION_STRING: 'esdb://127.0.0.1:2113?tls=false' });
  });

  it('given LOG_FORMAT=text, then the apps log console text instead of JSON lines', () => {
    expect(loadConfig({ LOG_FORMAT: 'text' }).LOG_FORMAT).toBe('text');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', EVENTSTORE_CONNECTION_STRING: '' })).toMatchObject({ PORT: 3000 });
    expect(loadConfig({ EVENTSTORE_CONNECTION_STRING: '' }).EVENTSTORE_CONNECTION_STRING).toBeUndefined();
  });

  it.each([
    ['PORT', 'abc'],
    ['PORT', '70000'],
    ['PROJECTOR_PORT', '-1'],
    ['SQLITE_SYNCHRONOUS', 'OFF'],
    ['EVENTSTORE_CONNECTION_STRING', 'http://127.0.0.1:2113'],
    ['BODY_LIMIT_BYTES', '10'],
    ['LOG_LEVEL', 'chatty'],
    ['LOG_FORMAT', 'xml'],
    ['HOST', 'example.com'],
    ['RATE_LIMIT_PER_SECOND', '0'],
    ['RATE_LIMIT_BURST', 'many'],
    ['RATE_LIMIT_AUTH_FAILURES_PER_MINUTE', '-5'],
  ])('given %s=%s, then the start stops with a message naming the variable', (variable, value) => {
    let thrown: unknown;
    try {
      loadConfig({ [variable]: value });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as ConfigError).problems.map((p) => p.variable)).toEqual([variable]);
    expect((thrown as ConfigError).message).toContain(`${variable}:`);
  });
});
