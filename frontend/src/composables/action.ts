// An action a screen runs on a click (pay, cancel, sign in, write a review):
// one at a time, its failure in plain words, and whether it finished.
import { ref } from "vue";
import { plainMessage } from "../lib/errors";

export function useAction(describe: (error: unknown) => string = plainMessage) {
  const busy = ref(false);
  const error = ref<string | null>(null);
  const done = ref(false);

  /** Runs `work` unless one is running; its result, or undefined when it failed (then `error` says why). */
  async function run<T>(work: () => Promise<T>): Promise<T | undefined> {
    if (busy.value) return undefined;
    busy.value = true;
    error.value = null;
    done.value = false;
    try {
      const result = await work();
      done.value = true;
      return result;
    } catch (e) {
      error.value = describe(e);
      return undefined;
    } finally {
      busy.value = false;
    }
  }

  return { busy, error, done, run };
}
