// The two ways a screen reads the API: one answer (with its loading and error
// state), or a list a page at a time following the API's opaque cursor.
import { nextTick, ref, shallowRef, type Ref } from "vue";
import { plainMessage } from "../lib/errors";

export function useAnswer<T>(fetch: () => Promise<T>) {
  const data = shallowRef<T | null>(null) as Ref<T | null>;
  const loading = ref(false);
  const error = ref<string | null>(null);

  async function load(): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      data.value = await fetch();
    } catch (e) {
      error.value = plainMessage(e);
    } finally {
      loading.value = false;
    }
  }

  return { data, loading, error, load };
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export function usePaged<T>(fetchPage: (cursor: string | undefined) => Promise<Page<T>>) {
  const items = ref<T[]>([]) as Ref<T[]>;
  const loading = ref(false);
  const error = ref<string | null>(null);
  const done = ref(false);
  let cursor: string | undefined;

  async function more(): Promise<void> {
    loading.value = true;
    error.value = null;
    try {
      const page = await fetchPage(cursor);
      items.value.push(...page.items);
      cursor = page.nextCursor;
      done.value = !page.nextCursor;
    } catch (e) {
      error.value = plainMessage(e);
    } finally {
      loading.value = false;
    }
  }

  /** The next page, then focus on the first item it brought (the `selector`
   * matches within `list`, one per item), so the next Tab goes on from there. */
  async function moreThenFocus(list: HTMLElement | null, selector: string): Promise<void> {
    const shown = items.value.length;
    await more();
    await nextTick();
    list?.querySelectorAll<HTMLElement>(selector)[shown]?.focus();
  }

  function restart(): Promise<void> {
    items.value = [];
    cursor = undefined;
    done.value = false;
    return more();
  }

  return { items, loading, error, done, more, moreThenFocus, restart };
}
