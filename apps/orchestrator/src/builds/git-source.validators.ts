import { registerDecorator, ValidationArguments, ValidationOptions } from 'class-validator';

/**
 * Accepts what the executor can fetch with git: an absolute local path, or a file://, https:// or
 * ssh:// URL. Credentials inside the URL are refused: they would be written into the event log.
 */
export const gitSourceUrlProblem = (value: string): string | null => {
  if (/[\0-\x1f\x7f]/.test(value)) return 'url must not contain control characters';
  if (value.startsWith('/')) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'url must be an absolute local path or a file://, https:// or ssh:// URL';
  }
  if (!['file:', 'https:', 'ssh:'].includes(url.protocol)) return `url scheme ${url.protocol.replace(':', '')} is not supported (use file, https or ssh)`;
  if (url.password) return 'url must not embed a password; registry and git credentials are configured, never sent in a build request';
  if (url.protocol !== 'file:' && !url.hostname) return 'url needs a host';
  return null;
};

/** Roughly `git check-ref-format` plus: no leading '-', so a ref can never be read as an option. */
export const gitRefProblem = (value: string): string | null => {
  if (value.length === 0 || value.length > 255) return 'ref must be 1..255 characters';
  if (value.startsWith('-')) return 'ref must not start with -';
  if (/[\0-\x20\x7f~^:?*[\\]/.test(value)) return 'ref must not contain spaces, control characters or any of ~ ^ : ? * [ \\';
  if (value.includes('..') || value.includes('@{') || value.includes('//')) return 'ref must not contain .., @{ or //';
  if (value.endsWith('/') || value.endsWith('.') || value.endsWith('.lock') || value.startsWith('/')) return 'ref must not start with / or end with /, . or .lock';
  return null;
};

const fromCheck = (name: string, check: (value: string) => string | null) => (options?: ValidationOptions) =>
  (target: object, propertyName: string) => {
    const problem = (value: unknown) => (typeof value === 'string' ? check(value) : `${propertyName} must be a string`);
    registerDecorator({
      name,
      target: target.constructor,
      propertyName,
      options,
      validator: {
        validate: (value: unknown) => problem(value) === null,
        defaultMessage: (args?: ValidationArguments) => problem(args?.value) ?? '',
      },
    });
  };

export const IsGitSourceUrl = fromCheck('isGitSourceUrl', gitSourceUrlProblem);
export const IsGitRef = fromCheck('isGitRef', gitRefProblem);
