import { VsshError } from '../src/errors.js';

/** codeOf runs `fn` and returns the code of the VsshError it throws (undefined when it does not throw). */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof VsshError ? err.code : `not a VsshError: ${err}`;
  }
}
