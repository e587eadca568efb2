import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldProblem, HttpProblem } from './problem';

/** Flattens class-validator's tree into `a.b.c: message` entries naming each field at fault. */
export const fieldProblems = (errors: ValidationError[], parent = ''): FieldProblem[] =>
  errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({
      field,
      message: message.startsWith('property ') ? `unknown field ${field}` : message,
    }));
    return [...own, ...fieldProblems(error.children ?? [], field)];
  });

const isPlainObject = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * The global pipe (STYLE.md rule 13): unknown fields are errors, not silently dropped, and a body
 * must be a JSON object (an absent body counts as {} for endpoints whose fields are all optional).
 */
class StrictValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype && metadata.metatype !== Object) {
      if (value === undefined || value === null) value = {};
      if (!isPlainObject(value)) throw new HttpProblem(400, 'validation', 'Invalid request', 'The request body must be a JSON object', [{ field: 'body', message: 'must be a JSON object' }]);
    }
    return super.transform(value, metadata);
  }
}

export const createValidationPipe = (): ValidationPipe =>
  new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const problems = fieldProblems(errors);
      const detail = problems.map((p) => `${p.field}: ${p.message}`).join('; ');
      return new HttpProblem(400, 'validation', 'Invalid request', detail || 'The request is not valid', problems);
    },
  });
