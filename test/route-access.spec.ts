import { loadConfig } from '@lib/shared';
import { routeAccessTable } from '@lib/shared/auth/testing/route-table';
import { OrchestratorModule } from '../apps/orchestrator/src/orchestrator.module';
import { ProjectorModule } from '../apps/projector/src/projector.module';

/**
 * Default deny, checked before anything runs: every route of both apps' root modules (whatever
 * controllers they gain) declares @Public or @Permit, never neither nor both. Which permission each
 * needs is listed per app (apps/orchestrator/src/access, apps/projector/src/access).
 */
describe('every route of both apps declares who may call it', () => {
  const config = loadConfig({ EXECUTOR_ENABLED: 'true' });

  it.each([
    ['orchestrator', OrchestratorModule.forRoot(config)],
    ['projector', ProjectorModule.forRoot(config)],
  ])('%s', (_, module) => {
    const routes = routeAccessTable(module.controllers ?? []);
    expect(Object.keys(routes).length).toBeGreaterThan(1);
    const undeclared = Object.entries(routes).filter(([, access]) => access === 'undeclared' || access === 'conflicting');
    expect(undeclared).toEqual([]);
  });
});
