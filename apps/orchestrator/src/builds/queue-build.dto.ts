import { Type } from 'class-transformer';
import {
  IsDefined,
  IsIn,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { ACCOUNT_TYPES, AccountType } from '@lib/domain';
import { SLUG } from '@lib/shared';
import { IsGitRef, IsGitSourceUrl } from './git-source.validators';

const REPOSITORY = /^[a-z0-9]+(?:[._-][a-z0-9]+)*\/[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
/** A relative path inside the build context: no absolute path, no '..' segment, no control characters. */
const CONTEXT_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[^\0-\x1f\\]{1,1024}$/;

export class GitSourceDto {
  @IsString() @MinLength(1) @MaxLength(2048) @IsGitSourceUrl()
  url!: string;

  @IsOptional() @IsString() @IsGitRef()
  ref?: string;
}

export class SourceDto {
  @IsDefined() @IsObject() @ValidateNested() @Type(() => GitSourceDto)
  git!: GitSourceDto;
}

export class QueueBuildDto {
  @IsString() @MinLength(2) @MaxLength(64) @Matches(SLUG, { message: 'org must be lower-case letters and digits, optionally separated by single . _ or -' })
  org!: string;

  @IsString() @MinLength(1) @MaxLength(128) @Matches(SLUG, { message: 'repo must be lower-case letters and digits, optionally separated by single . _ or -' })
  repo!: string;

  @IsOptional() @IsIn(ACCOUNT_TYPES)
  accountType?: AccountType;

  @IsDefined() @IsObject() @ValidateNested() @Type(() => SourceDto)
  source!: SourceDto;

  @IsOptional() @IsString() @Matches(CONTEXT_PATH, { message: 'dockerfile must be a relative path inside the repository' })
  dockerfile?: string;

  @IsOptional() @IsString() @Matches(DOCKER_TAG, { message: 'tag must be a Docker tag: up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -' })
  tag?: string;

  /**
   * Where to push, `namespace/name`; defaults to `<org>/<repo>`. The registry only lets a build push
   * into its own account's namespace: another namespace is accepted here and refused at push time
   * (auth-denied), where the registry's authorization decides.
   */
  @IsOptional() @IsString() @MaxLength(255) @Matches(REPOSITORY, { message: 'repository must be namespace/name in lower-case slugs' })
  repository?: string;

  @IsOptional() @IsInt() @Min(0) @Max(9)
  priority?: number;

  /** A time limit shorter than the configured maximum (BUILD_TIMEOUT_SECONDS). */
  @IsOptional() @IsInt() @Min(1) @Max(24 * 3600)
  timeoutSeconds?: number;
}

export class CancelBuildDto {
  @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}

export const QUEUE_DEFAULTS = { accountType: 'org' as AccountType, ref: 'HEAD', dockerfile: 'Dockerfile', tag: 'latest', priority: 5 };
