// Each page says what it is: its title (the tab, the history, a screen
// reader's "page loaded"), its description, whether search engines may keep
// it; and after a client-side navigation, focus moves to its heading, as a
// page load would put a screen reader at the top of the new page.

const SHOP = "The shop";
const DESCRIPTION = "The shop: sweets, snacks and more, delivered.";

function metaTag(name: string): HTMLMetaElement {
  let tag = document.head.querySelector<HTMLMetaElement>(`meta[name="${name}"]`);
  if (!tag) {
    tag = document.createElement("meta");
    tag.name = name;
    document.head.appendChild(tag);
  }
  return tag;
}

/** Sets the tab's title: the page's own, then the shop's name. */
export function setPageTitle(title?: string): void {
  document.title = title ? `${title} · ${SHOP}` : SHOP;
}

export interface PageMeta {
  title?: string;
  description?: string;
  /** Not for search engines (a page that does not exist, a shopper's own). */
  noindex?: boolean;
}

export function applyPageMeta(meta: PageMeta): void {
  setPageTitle(meta.title);
  metaTag("description").content = meta.description ?? DESCRIPTION;
  const robots = document.head.querySelector<HTMLMetaElement>('meta[name="robots"]');
  if (meta.noindex) metaTag("robots").content = "noindex";
  else robots?.remove();
}

/** Moves focus to the new page's heading once it is on the page (views
 * that load their data show it a moment later), else to the main region. */
export function focusPageHeading(timeoutMs = 2000): void {
  const started = performance.now();
  const attempt = () => {
    const heading = document.querySelector<HTMLElement>("main h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: true });
    } else if (performance.now() - started < timeoutMs) {
      requestAnimationFrame(attempt);
    } else {
      document.querySelector<HTMLElement>("main")?.focus({ preventScroll: true });
    }
  };
  requestAnimationFrame(attempt);
}
