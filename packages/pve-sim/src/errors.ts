/**
 * An error answered the PVE way: `status` with the first line of `message` as
 * the HTTP reason phrase. `raw` errors (authentication, dispatcher faults) are
 * sent without a JSON body, as PVE's AnyEvent layer does.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
    readonly raw = false,
  ) {
    super(message);
  }
}

/** A handler `die` with a newline-terminated message: 500. */
export function die(message: string): never {
  throw new ApiError(500, message.endsWith('\n') ? message : `${message}\n`);
}

/** A 400 with per-parameter errors, as PVE's `raise_param_exc`. */
export function paramError(errors: Record<string, string>): never {
  throw new ApiError(400, 'Parameter verification failed.\n', errors);
}

export function forbidden(message = 'Permission check failed'): never {
  throw new ApiError(403, `${message}\n`);
}

/** The message text of anything thrown inside a task or handler. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
