import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
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
  @ApiProperty({ description: 'The git repository to clone (https://, or a local path where allowed).', minLength: 1, maxLength: 2048, example: 'https://git.example.com/acme/hello.git' })
  @IsString() @MinLength(1) @MaxLength(2048) @IsGitSourceUrl()
  url!: string;

  @ApiPropertyOptional({ description: 'A branch, tag or commit (default HEAD).', example: 'main', default: 'HEAD' })
  @IsOptional() @IsString() @IsGitRef()
  ref?: string;
}

export class SourceDto {
  @ApiProperty({ type: () => GitSourceDto })
  @IsDefined() @IsObject() @ValidateNested() @Type(() => GitSourceDto)
  git!: GitSourceDto;
}

export class QueueBuildDto {
  @ApiProperty({ description: 'The org the build belongs to (a slug).', minLength: 2, maxLength: 64, pattern: SLUG.source, example: 'acme' })
  @IsString() @MinLength(2) @MaxLength(64) @Matches(SLUG, { message: 'org must be lower-case letters and digits, optionally separated by single . _ or -' })
  org!: string;

  @ApiProperty({ description: 'The repository name (a slug).', minLength: 1, maxLength: 128, pattern: SLUG.source, example: 'hello' })
  @IsString() @MinLength(1) @MaxLength(128) @Matches(SLUG, { message: 'repo must be lower-case letters and digits, optionally separated by single . _ or -' })
  repo!: string;

  @ApiPropertyOptional({ enum: ACCOUNT_TYPES, default: 'org', description: 'Whose account the build runs under.' })
  @IsOptional() @IsIn(ACCOUNT_TYPES)
  accountType?: AccountType;

  @ApiProperty({ type: () => SourceDto, description: 'Where the build context comes from.' })
  @IsDefined() @IsObject() @ValidateNested() @Type(() => SourceDto)
  source!: SourceDto;

  @ApiPropertyOptional({ description: 'The Dockerfile, relative to the repository root.', default: 'Dockerfile', maxLength: 1024, example: 'docker/Dockerfile' })
  @IsOptional() @IsString() @Matches(CONTEXT_PATH, { message: 'dockerfile must be a relative path inside the repository' })
  dockerfile?: string;

  @ApiPropertyOptional({ description: 'The image tag to push.', default: 'latest', pattern: DOCKER_TAG.source, example: '1.4.2' })
  @IsOptional() @IsString() @Matches(DOCKER_TAG, { message: 'tag must be a Docker tag: up to 128 of A-Z a-z 0-9 _ . -, not starting with . or -' })
  tag?: string;

  /**
   * Where to push, `namespace/name`; defaults to `<org>/<repo>`. The registry only lets a build push
   * into its own account's namespace: another namespace is accepted here and refused at push time
   * (auth-denied), where the registry's authorization decides.
   */
  @ApiPropertyOptional({ description: 'Where to push, namespace/name; defaults to <org>/<repo>. Another account\'s namespace is refused at push time (auth-denied).', maxLength: 255, pattern: REPOSITORY.source, example: 'acme/hello' })
  @IsOptional() @IsString() @MaxLength(255) @Matches(REPOSITORY, { message: 'repository must be namespace/name in lower-case slugs' })
  repository?: string;

  @ApiPropertyOptional({ description: 'Higher runs first within its org\'s line.', type: 'integer', minimum: 0, maximum: 9, default: 5 })
  @IsOptional() @IsInt() @Min(0) @Max(9)
  priority?: number;

  /** A time limit shorter than the configured maximum (BUILD_TIMEOUT_SECONDS). */
  @ApiPropertyOptional({ description: 'A time limit shorter than the configured maximum (BUILD_TIMEOUT_SECONDS).', type: 'integer', minimum: 1, maximum: 24 * 3600, example: 900 })
  @IsOptional() @IsInt() @Min(1) @Max(24 * 3600)
  timeoutSeconds?: number;
}

export class CancelBuildDto {
  @ApiPropertyOptional({ description: 'Why, recorded in the event.', maxLength: 500, example: 'wrong branch' })
  @IsOptional() @IsString() @MaxLength(500)
  reason?: string;
}

export const QUEUE_DEFAULTS = { accountType: 'org' as AccountType, ref: 'HEAD', dockerfile: 'Dockerfile', tag: 'latest', priority: 5 };
