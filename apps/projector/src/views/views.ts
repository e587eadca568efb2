import { Type } from '@nestjs/common';
import { BuildStreamController } from '../stream/build-stream.controller';
import { GetOrgQueueHandler, GetQueueOverviewHandler, GetQueuePositionHandler } from './queue.queries';
import { ListRoutesHandler } from './routes.queries';
import { GetStatsHandler } from './stats.queries';
import { ViewsController } from './views.controller';

/** The dashboards' views and the live stream, as the projector module registers them. */
export const viewControllers: Type[] = [ViewsController, BuildStreamController];
export const viewProviders: Type[] = [GetQueueOverviewHandler, GetOrgQueueHandler, GetQueuePositionHandler, ListRoutesHandler, GetStatsHandler];
