import type { PipeTransform } from '@nestjs/common';
import type { z } from 'zod';

/** Parses a request part with a contract schema; a ZodError becomes a 400 in the exception filter. */
export class ZodPipe<S extends z.ZodType> implements PipeTransform<unknown, z.infer<S>> {
  constructor(private readonly schema: S) {}

  transform(value: unknown): z.infer<S> {
    return this.schema.parse(value);
  }
}
