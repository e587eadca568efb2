import { Injectable, PipeTransform } from '@nestjs/common';
import { UUID_PATTERN } from '../ports/ids';
import { invalidField } from './problem';

/** A build id in a path must be a lower-case UUID; anything else is a 400 naming the parameter. */
@Injectable()
export class BuildIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID_PATTERN.test(value)) throw invalidField('buildId', 'must be a lower-case UUID');
    return value;
  }
}

/** An incident id in a path: a lower-case UUID too (the detector derives it), else a 400 naming the parameter. */
@Injectable()
export class IncidentIdPipe implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!UUID_PATTERN.test(value)) throw invalidField('incidentId', 'must be a lower-case UUID');
    return value;
  }
}
