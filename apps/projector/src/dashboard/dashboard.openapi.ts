import { applyDecorators } from '@nestjs/common';
import { ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ApiJsonResponse, ApiProblems, integerSchema, objectSchema } from '@lib/shared';

const file = (mediaType: string, description: string) =>
  ApiResponse({ status: 200, description, content: { [mediaType]: { schema: { type: 'string' } } } });

/** The OpenAPI description of the dashboard's static routes (dashboard.controller.ts): public files, no data. */
export const DashboardDocs = {
  index: () => applyDecorators(
    ApiTags('dashboard'),
    ApiOperation({ summary: 'The web dashboard', description: 'The single page of the dashboard (README, "Dashboard"). It asks once for an API token; its data comes from this API with that token.' }),
    file('text/html', 'The page.'),
  ),
  configuration: () => applyDecorators(
    ApiTags('dashboard'),
    ApiOperation({ summary: 'Where the dashboard finds the command API', description: 'The orchestrator\'s port, for the build logs the page follows there (on the page\'s own host name).' }),
    ApiJsonResponse(200, 'The dashboard\'s configuration.', objectSchema({ orchestratorPort: integerSchema('The command API\'s PORT.', { minimum: 0, maximum: 65535 }) }), { orchestratorPort: 3000 }),
  ),
  chart: () => applyDecorators(
    ApiTags('dashboard'),
    ApiOperation({ summary: 'Chart.js', description: 'The chart.js package\'s own UMD build, as installed.' }),
    file('text/javascript', 'The library.'),
  ),
  asset: () => applyDecorators(
    ApiTags('dashboard'),
    ApiOperation({ summary: 'A file of the dashboard', description: 'One of the dashboard\'s own files (ES modules and CSS); any other name is a 404.' }),
    ApiParam({ name: 'file', description: 'A file name of apps/projector/src/dashboard/assets, like app.js or style.css.', example: 'app.js' }),
    file('text/javascript', 'The file (text/javascript or text/css by its name).'),
    ApiProblems(404),
  ),
};
