import { loadConfig } from '@lib/shared';
import { routeAccessTable } from '@lib/shared/auth/testing/route-table';
import { OrchestratorModule } from '../orchestrator.module';

/**
 * Who may call each route of the orchestrator, as the access guard reads it. The registry's token
 * endpoint is public to API tokens: the engine authenticates there with a build's own access key.
 */
const EXPECTED: Readonly<Record<string, string>> = {
  'POST /builds': 'builds:write',
  'POST /builds/:buildId/cancel': 'builds:write',
  'POST /builds/:buildId/retry': 'builds:write',
  'GET /builds/:buildId/logs': 'builds:read',
  'GET /backends': 'routes:read',
  'GET /registry-endpoints': 'routes:read',
  'POST /backends/:name/drain': 'routes:write',
  'POST /backends/:name/undrain': 'routes:write',
  'POST /registry-endpoints/:name/drain': 'routes:write',
  'POST /registry-endpoints/:name/undrain': 'routes:write',
  'POST /incidents/:incidentId/notes': 'incidents:write',
  'POST /incidents/:incidentId/milestones': 'incidents:write',
  'GET /incidents/detector': 'operations:read',
  'POST /principals': 'principals:manage',
  'GET /principals': 'principals:read',
  'GET /principals/:principalId': 'principals:read',
  'POST /principals/:principalId/role': 'principals:manage',
  'POST /principals/:principalId/disable': 'principals:manage',
  'POST /principals/:principalId/enable': 'principals:manage',
  'POST /principals/:principalId/tokens': 'principals:manage',
  'POST /principals/:principalId/tokens/:tokenId/revoke': 'principals:manage',
  'GET /health': 'public',
  'GET /health/live': 'public',
  'GET /health/ready': 'public',
  'GET /metrics': 'operations:read',
  'GET /registry/token': 'public',
};

describe("access to the orchestrator's routes", () => {
  it('is declared on every route of the module (with the executor and its token endpoint), as listed', () => {
    const module = OrchestratorModule.forRoot(loadConfig({ EXECUTOR_ENABLED: 'true' }));
    expect(routeAccessTable(module.controllers ?? [])).toStrictEqual(EXPECTED);
  });
});
