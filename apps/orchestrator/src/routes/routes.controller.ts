import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { RouteKind } from '@lib/domain';
import { Context, HttpProblem, Permit, RequestContext, Topology } from '@lib/shared';
import { ClusterViewService, TOPOLOGY } from '../scheduling/cluster-view.service';
import { DrainDto } from './drain.dto';
import { DrainRouteCommand, DrainRouteResult } from './drain-route.handler';
import { RoutesDocs } from './routes.openapi';

/**
 * Operators' switches and the live state of where builds go. Draining takes a backend or registry
 * endpoint out of rotation (running builds finish; new ones go elsewhere); both are events with the actor.
 */
@Controller()
@RoutesDocs.controller()
export class RoutesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly cluster: ClusterViewService,
    @Inject(TOPOLOGY) private readonly topology: Topology,
  ) {}

  @Get('backends')
  @Permit('routes:read')
  @RoutesDocs.backends()
  backends() {
    const active = this.cluster.view.withStatus('running', 'pushing');
    return {
      items: this.topology.backends.map((backend) => ({
        name: backend.name,
        dockerHost: backend.dockerHost,
        concurrency: backend.concurrency,
        running: active.filter(({ build }) => build.backend === backend.name).length,
        ...this.state('backend', backend.name),
      })),
    };
  }

  @Get('registry-endpoints')
  @Permit('routes:read')
  @RoutesDocs.endpoints()
  endpoints() {
    const pushing = this.cluster.view.withStatus('pushing');
    return {
      items: this.topology.endpoints.map((endpoint, index) => ({
        name: endpoint.name,
        addr: endpoint.addr,
        preference: index + 1,
        pushing: pushing.filter(({ build }) => build.registryEndpoint === endpoint.name).length,
        ...this.state('registry', endpoint.name),
      })),
    };
  }

  @Post('backends/:name/drain')
  @Permit('routes:write')
  @HttpCode(200)
  @RoutesDocs.drainBackend()
  drainBackend(@Param('name') name: string, @Body() body: DrainDto, @Context() context: RequestContext): Promise<DrainRouteResult> {
    return this.switch('backend', name, true, body?.reason ?? null, context);
  }

  @Post('backends/:name/undrain')
  @Permit('routes:write')
  @HttpCode(200)
  @RoutesDocs.undrainBackend()
  undrainBackend(@Param('name') name: string, @Body() body: DrainDto, @Context() context: RequestContext): Promise<DrainRouteResult> {
    return this.switch('backend', name, false, body?.reason ?? null, context);
  }

  @Post('registry-endpoints/:name/drain')
  @Permit('routes:write')
  @HttpCode(200)
  @RoutesDocs.drainEndpoint()
  drainEndpoint(@Param('name') name: string, @Body() body: DrainDto, @Context() context: RequestContext): Promise<DrainRouteResult> {
    return this.switch('registry', name, true, body?.reason ?? null, context);
  }

  @Post('registry-endpoints/:name/undrain')
  @Permit('routes:write')
  @HttpCode(200)
  @RoutesDocs.undrainEndpoint()
  undrainEndpoint(@Param('name') name: string, @Body() body: DrainDto, @Context() context: RequestContext): Promise<DrainRouteResult> {
    return this.switch('registry', name, false, body?.reason ?? null, context);
  }

  private state(kind: RouteKind, name: string) {
    const { state } = this.cluster.view.route({ kind, name });
    return { circuit: state.circuit, circuitSince: state.circuitSince, drained: state.drained, drainedBy: state.drainedBy, drainReason: state.drainReason };
  }

  private switch(kind: RouteKind, name: string, drain: boolean, reason: string | null, context: RequestContext): Promise<DrainRouteResult> {
    const known = kind === 'backend' ? this.topology.backends.map((b) => b.name) : this.topology.endpoints.map((e) => e.name);
    if (!known.includes(name)) {
      const what = kind === 'backend' ? 'backend' : 'registry endpoint';
      throw new HttpProblem(404, `unknown-${kind === 'backend' ? 'backend' : 'registry-endpoint'}`, 'Not found',
        `There is no ${what} named ${JSON.stringify(name)}; configured: ${known.join(', ')}`, [{ field: 'name', message: `not a configured ${what}` }]);
    }
    return this.commands.execute(new DrainRouteCommand({ kind, name }, drain, reason, context));
  }
}
