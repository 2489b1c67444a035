import { z } from 'zod';
import { NotFoundError } from './errors.js';

const Id = z.uuid();

/** A malformed id cannot exist: answer exactly as for an unknown one (404, same message). */
export function parseId(id: string, what: string): string {
  if (!Id.safeParse(id).success) throw new NotFoundError(`${what} ${id.slice(0, 64)} not found`);
  return id;
}
