import { Injectable, PipeTransform } from '@nestjs/common';
import { ACCESS_LIMITS, PRINCIPAL_ID_PATTERN, Role, ROLES, TOKEN_ID_PATTERN } from '@lib/domain';
import { invalidField } from '@lib/shared';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

const PRINCIPAL_ID_MESSAGE = 'must be 1 to 63 lower-case letters, digits, _ or -, starting with a letter or digit';

/** The orgs of a builder or viewer (slugs, or '*' alone for every org); the decider checks them against the role. */
class RoleDto {
  @IsIn(ROLES, { message: `role must be one of ${ROLES.join(', ')}` })
  role!: Role;

  @IsOptional() @IsArray() @ArrayMaxSize(ACCESS_LIMITS.orgs) @IsString({ each: true }) @MaxLength(64, { each: true })
  orgs?: string[];
}

export class CreatePrincipalDto extends RoleDto {
  @IsString() @Matches(PRINCIPAL_ID_PATTERN, { message: `id ${PRINCIPAL_ID_MESSAGE}` })
  id!: string;

  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(ACCESS_LIMITS.description)
  description?: string;
}

export class ChangeRoleDto extends RoleDto {}

export class ReasonDto {
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(ACCESS_LIMITS.reason)
  reason?: string;
}

export class IssueTokenDto {
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(ACCESS_LIMITS.label)
  label?: string;

  /** Leave it out for a token that does not expire. */
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
