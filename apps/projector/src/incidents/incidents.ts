import { Type } from '@nestjs/common';
import { GetFailureAnalysisHandler, GetTopAccountsHandler } from './failure-analysis.queries';
import { IncidentsController } from './incidents.controller';
import { GetIncidentHandler, GetPostmortemHandler, ListIncidentsHandler } from './incidents.queries';
import { GetResponseTimesHandler } from './response-times.queries';

/** The incidents' controller and query handlers, as the projector module registers them. */
export const incidentControllers: Type[] = [IncidentsController];
export const incidentProviders: Type[] = [
  ListIncidentsHandler, GetIncidentHandler, GetPostmortemHandler, GetFailureAnalysisHandler, GetTopAccountsHandler, GetResponseTimesHandler,
];
