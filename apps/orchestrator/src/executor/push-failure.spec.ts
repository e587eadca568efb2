import { classifyPushFailure } from './push-failure';

describe('push failure classification', () => {
  it.each([
    ['denied: requested access to the resource is denied', 'auth', 'auth-denied'],
    ['unauthorized: authentication required', 'auth', 'auth-denied'],
    ['Get "http://127.0.0.1:3000/registry/token?scope=…": unauthorized', 'auth', 'auth-denied'],
    ['Get "https://127.0.0.1:5001/v2/": net/http: TLS handshake timeout', 'push', 'registry-timeout'],
    ['Put "http://127.0.0.1:5000/v2/acme/hello/blobs/uploads/…": context deadline exceeded', 'push', 'registry-timeout'],
    ['push stalled: no progress for 30 s (orchestrator deadline)', 'push', 'registry-timeout'],
    ['dial tcp 127.0.0.1:5009: connect: connection refused', 'push', 'registry-unavailable'],
    ['read tcp 127.0.0.1:40000->127.0.0.1:5000: read: connection reset by peer', 'push', 'registry-unavailable'],
    ['received unexpected HTTP status: 503 Service Unavailable', 'push', 'registry-unavailable'],
    ['received unexpected HTTP status: 502 Bad Gateway', 'push', 'registry-unavailable'],
    ['manifest invalid: manifest invalid', 'push', 'registry-rejected'],
    ['blob upload invalid', 'push', 'registry-rejected'],
  ])('%s → %s/%s', (message, phase, failureClass) => {
    expect(classifyPushFailure(message)).toEqual({ phase, failureClass });
  });
});
