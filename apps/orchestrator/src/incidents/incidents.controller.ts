import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { INCIDENT_MILESTONES, IncidentMilestone } from '@lib/domain';
import { Context, IncidentIdPipe, Permit, RequestContext } from '@lib/shared';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import { IncidentCommandResult, IncidentOperatorCommand } from './incident-commands.handler';
import { IncidentDetectorService } from './incident-detector.service';
import { IncidentsDocs } from './incidents.openapi';

export class IncidentNoteDto {
  @ApiProperty({ description: 'The note, in Markdown.', minLength: 1, maxLength: 10_000, example: 'Rolled engine-a back to the previous daemon version.' })
  @IsString() @IsNotEmpty() @MaxLength(10_000)
  text!: string;
}

export class IncidentMilestoneDto {
  @ApiProperty({ enum: INCIDENT_MILESTONES, example: 'mitigated' })
  @IsIn(INCIDENT_MILESTONES)
  milestone!: IncidentMilestone;

  /** ISO-8601 with a zone; the decider checks it is not in the future and keeps the milestones in order. */
  @ApiProperty({ description: 'When, ISO-8601 with a zone; not in the future, and the milestones in order.', format: 'date-time', maxLength: 64, example: '2026-11-16T10:05:00Z' })
  @IsString() @IsNotEmpty() @MaxLength(64)
  at!: string;

  @ApiPropertyOptional({ description: 'What happened then.', minLength: 1, maxLength: 10_000, example: 'engine-a drained' })
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(10_000)
  note?: string;
}

/**
 * SREs' commands on incidents (the detector opens and resolves them; GET /incidents on the
 * projector shows them). Each is an event in the incident's stream with the actor.
 */
@Controller('incidents')
@IncidentsDocs.controller()
export class IncidentsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly detector: IncidentDetectorService,
  ) {}

  @Post(':incidentId/notes')
  @Permit('incidents:write')
  @HttpCode(201)
  @IncidentsDocs.note()
  note(@Param('incidentId', IncidentIdPipe) incidentId: string, @Body() body: IncidentNoteDto, @Context() context: RequestContext): Promise<IncidentCommandResult> {
    return this.commands.execute(new IncidentOperatorCommand(incidentId, { type: 'AddIncidentNote', text: body.text }, context));
  }

  @Post(':incidentId/milestones')
  @Permit('incidents:write')
  @HttpCode(201)
  @IncidentsDocs.milestone()
  milestone(@Param('incidentId', IncidentIdPipe) incidentId: string, @Body() body: IncidentMilestoneDto, @Context() context: RequestContext): Promise<IncidentCommandResult> {
    const request = { type: 'SetIncidentMilestone' as const, milestone: body.milestone, at: body.at, note: body.note ?? null };
    return this.commands.execute(new IncidentOperatorCommand(incidentId, request, context));
  }

  /** The detector's progress: where it is in the log, and what it has open right now. */
  @Get('detector')
  @Permit('operations:read')
  @IncidentsDocs.status()
  status() {
    return { enabled: this.detector.enabled, position: this.detector.position, rules: this.detector.rules.map((rule) => rule.name), open: this.detector.open };
  }
}
