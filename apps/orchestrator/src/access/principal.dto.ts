import { Injectable, PipeTransform } from '@nestjs/common';
import { ACCESS_LIMITS, PRINCIPAL_ID_PATTERN, Role, ROLES, TOKEN_ID_PATTERN } from '@lib/domain';
import { invalidField } from '@lib/shared';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

const PRINCIPAL_ID_MESSAGE = 'must be 1 to 63 lower-case letters, digits, _ or -, starting with a letter or digit';

/** The orgs of a builder or viewer (slugs, or '*' alone for every org); the decider checks them against the role. */
class RoleDto {
  @ApiProperty({ enum: ROLES, example: 'builder' })
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role!: Role;

  @ApiPropertyOptional({ description: 'The orgs of a builder or viewer: org slugs, or "*" alone for every org. Other roles take none.', type: [String], maxItems: ACCESS_LIMITS.orgs, example: ['acme'] })
  @IsOptional() @IsArray() @ArrayMaxSize(ACCESS_LIMITS.orgs) @IsString({ each: true }) @MaxLength(64, { each: true })
  orgs?: string[];
}

export class CreatePrincipalDto extends RoleDto {
  @ApiProperty({ description: `The principal's id: ${PRINCIPAL_ID_MESSAGE}.`, pattern: PRINCIPAL_ID_PATTERN.source, example: 'ci-acme' })
  @IsString() @Matches(PRINCIPAL_ID_PATTERN, { message: `id ${PRINCIPAL_ID_MESSAGE}` })
  id!: string;

  @ApiPropertyOptional({ minLength: 1, maxLength: ACCESS_LIMITS.description, example: 'CI of acme' })
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(ACCESS_LIMITS.description)
  description?: string;
}

export class ChangeRoleDto extends RoleDto {}

export class ReasonDto {
  @ApiPropertyOptional({ description: 'Why, recorded in the event.', minLength: 1, maxLength: ACCESS_LIMITS.reason, example: 'left the team' })
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(ACCESS_LIMITS.reason)
  reason?: string;
}

export class IssueTokenDto {
  @ApiPropertyOptional({ description: 'What the token is for.', minLength: 1, maxLength: ACCESS_LIMITS.label, example: 'ci' })
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(ACCESS_LIMITS.label)
  label?: string;

  /** Leave it out for a token that does not expire. */
  @ApiPropertyOptional({ description: 'Leave it out for a token that does not expire.', type: 'integer', minimum: 1, maximum: 3650, example: 90 })
  @IsOptional() @IsInt() @Min(1) @Max(3650)
  expiresInDays?: number;
}

@Injectable()
export class PrincipalIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!PRINCIPAL_ID_PATTERN.test(value)) throw invalidField('principalId', PRINCIPAL_ID_MESSAGE);
    return value;
  }
}

@Injectable()
export class TokenIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!TOKEN_ID_PATTERN.test(value)) throw invalidField('tokenId', 'must be 16 lower-case hex digits');
    return value;
  }
}
