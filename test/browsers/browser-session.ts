/**
 * One browser tab, the same way in three engines, for the journeys every engine must pass
 * (test/e2e/journeys.spec.ts): Chromium through Playwright, Firefox ESR through puppeteer-core
 * (WebDriver BiDi) and WebKitGTK through selenium-webdriver and WebKitWebDriver, all Debian's
 * own browsers (Playwright cannot download its Firefox and WebKit builds here).
 *
 * What the journeys need and nothing more: navigate, click for real (the driver's input events,
 * also inside a slot's shadow root), go back and forward, evaluate in the page, open and close
 * tabs, and everything the page and its workers logged. Requests are not observed here: every
 * engine's requests are checked where they all pass, at the edge's recording proxy
 * (test/fixtures/egress-recorder.ts).
 */
export type EngineName = 'chromium' | 'firefox' | 'webkit';

export interface ConsoleEntry {
  /** 'error', 'warning', 'log', 'info', 'debug', or 'pageerror' for an uncaught error. */
  type: string;
  text: string;
}

/** A function evaluated in the page: serialized, so it may use only its argument and the page's globals. */
export type PageFunction<A, T> = (arg: A) => T | Promise<T>;

export interface BrowserSession {
  readonly engine: EngineName;
  goto(url: string): Promise<void>;
  /** A real click (the driver's own input events) on `selector`, or on `inner` inside the shadow root of `selector`. */
  click(selector: string, inner?: string): Promise<void>;
  /** Types into a form field, as a keyboard would. */
  type(selector: string, text: string): Promise<void>;
  back(): Promise<void>;
  forward(): Promise<void>;
  url(): Promise<string>;
  evaluate<A, T>(fn: PageFunction<A, T>, arg: A): Promise<T>;
  /** A PNG of the element `selector` matches, as the engine paints it, written to `file`. */
  screenshot(selector: string, file: string): Promise<void>;
  /** Opens a new tab and makes it the current one. */
  newTab(): Promise<void>;
  /** Closes the current tab; the one opened before it becomes current. */
  closeTab(): Promise<void>;
  /** Everything the session's pages and workers logged so far, in order. */
  console(): Promise<ConsoleEntry[]>;
  close(): Promise<void>;
}

/** Polls `read` until `accept` holds (the Firefox driver's waitForFunction does not work over BiDi, so every engine polls). */
export async function until<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 15_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let error: unknown;
  for (;;) {
    try {
      last = await read();
      if (accept(last)) return last;
      error = undefined;
    } catch (e) {
      error = e; // a page in the middle of navigating cannot be read: try again
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last value ${JSON.stringify(last)}${error ? `, last error ${String(error)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
