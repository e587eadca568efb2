import type { ApiClient } from '../client';
import type { ExitCode } from './exit-codes';

export type OptionSpec = Readonly<{
  type: 'string' | 'boolean';
  short?: string;
  /** Shown in help as `--name VALUE`. */
  value?: string;
  description: string;
}>;

export type PositionalSpec = Readonly<{ name: string; required: boolean; variadic?: boolean }>;

export type ParsedOptions = Readonly<Record<string, string | boolean | undefined>>;

/** Where output goes: the real streams in main.ts, buffers in tests. */
export type Output = Readonly<{ out: (text: string) => void; err: (text: string) => void }>;

export type CommandContext = Readonly<{
  options: ParsedOptions;
  positionals: readonly string[];
  /** The API client; asking for it without a token is a usage error. */
  client: () => ApiClient;
  json: boolean;
  io: Output;
}>;

/**
 * A leaf of the command tree. `remote: false` commands act on the machine's stores (delegating to the
 * projector's CLI) and need no token.
 */
export type Command = Readonly<{
  path: readonly string[];
  summary: string;
  positionals?: readonly PositionalSpec[];
  options?: Readonly<Record<string, OptionSpec>>;
  /** Paragraphs after the option list. */
  details?: string;
  remote?: boolean;
  run: (context: CommandContext) => Promise<ExitCode | number>;
}>;
