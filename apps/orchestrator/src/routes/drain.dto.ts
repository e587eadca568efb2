import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';

/** The body of drain and undrain: why, recorded in the event. */
export class DrainDto {
  @ApiPropertyOptional({ description: 'Why, recorded in the event.', maxLength: 500, example: 'engine upgrade' })
  @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}
