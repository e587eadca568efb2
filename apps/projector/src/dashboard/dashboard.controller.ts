import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import { AppConfig, Public } from '@lib/shared';
import type { FastifyReply } from 'fastify';
import { chartJs, dashboardAsset, DashboardFile } from './dashboard-files';
import { DashboardDocs } from './dashboard.openapi';

/** What the browser needs to know that only the server does: where the command API listens. */
export type DashboardConfig = { orchestratorPort: number };

const send = (reply: FastifyReply, file: DashboardFile): void => {
  // Revalidated on every load: the files change with the code, and they are small.
  void reply.header('content-type', file.contentType).header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').send(file.body);
};

/**
 * The web dashboard (README, "Dashboard"): static files only, so every route is public; the data
 * comes from the query API with the token the user enters, and each read keeps to its scope.
 */
@Controller()
export class DashboardController {
  constructor(private readonly config: AppConfig) {}

  @Get()
  @Public()
  @DashboardDocs.index()
  async index(@Res() reply: FastifyReply): Promise<void> {
    send(reply, await dashboardAsset('index.html'));
  }

  @Get('dashboard/config.json')
  @Public()
  @DashboardDocs.configuration()
  @Header('cache-control', 'no-cache')
  configuration(): DashboardConfig {
    return { orchestratorPort: this.config.PORT };
  }

  @Get('dashboard/vendor/chart.umd.js')
  @Public()
  @DashboardDocs.chart()
  async chart(@Res() reply: FastifyReply): Promise<void> {
    send(reply, await chartJs());
  }

  @Get('dashboard/:file')
  @Public()
  @DashboardDocs.asset()
  async asset(@Param('file') file: string, @Res() reply: FastifyReply): Promise<void> {
    send(reply, await dashboardAsset(file));
  }
}
