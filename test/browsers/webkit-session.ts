/**
 * WebKitGTK (Safari's engine family) driven by selenium-webdriver through Debian's
 * WebKitWebDriver, under a private Xvfb display. The browser WebKitWebDriver starts is
 * webkit-host.py beside this file: Debian's MiniBrowser works as well but prints nothing the
 * page logs, and the journeys must see every console error. Each session has its own driver,
 * its own browser process and its own data directory (storage persists across its pages and
 * tabs, as in Safari), so tests share nothing.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Builder, By, until } from 'selenium-webdriver';
import type { WebDriver } from 'selenium-webdriver';
import type { BrowserSession, ConsoleEntry, PageFunction } from './browser-session.ts';

export const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
const HOST = path.join(import.meta.dirname, 'webkit-host.py');

/** An Xvfb display of its own (Xvfb picks a free number and writes it to fd 3). */
export async function startXvfb(): Promise<{ display: string; stop(): void }> {
  const xvfb = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
  const display = await new Promise<string>((resolve, reject) => {
    let text = '';
    xvfb.stdio[3]!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(`:${text.trim()}`);
    });
    xvfb.once('exit', (code) => reject(new Error(`Xvfb exited with code ${code}`)));
    setTimeout(() => reject(new Error('Xvfb did not report a display within 10 s')), 10_000);
  });
  return { display, stop: () => xvfb.kill() };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const port = (probe.address() as { port: number }).port;
      probe.close(() => resolve(port));
    });
  });
}

async function waitForDriver(port: number, driver: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (driver.exitCode !== null) throw new Error(`WebKitWebDriver exited with code ${driver.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/status`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('WebKitWebDriver did not answer within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** "url:line:col: CONSOLE LEVEL text" lines the web processes write (WebKit's console-to-stdout setting). */
function parseConsole(text: string): ConsoleEntry[] {
  const entries: ConsoleEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /CONSOLE (JS ERROR|ERROR|WARN|LOG|INFO|DEBUG) (.*)$/.exec(line);
    if (!m) continue;
    const level = m[1]!;
    entries.push({ type: level === 'JS ERROR' ? 'pageerror' : level === 'WARN' ? 'warning' : level.toLowerCase(), text: m[2]! });
  }
  return entries;
}

/** `lang`: the LANG the browser runs under (its navigator.language follows it; "C.UTF-8" gives "C"). */
export async function webkitSession(display: string, lang = 'en_US.UTF-8'): Promise<BrowserSession> {
  const dir = mkdtempSync(path.join(tmpdir(), 'vitrine-webkit-'));
  const consoleFile = path.join(dir, 'console.log');
  writeFileSync(consoleFile, '');
  const port = await freePort();
  const env = { ...process.env, DISPLAY: display, LANG: lang, VITRINE_WEBKIT_CONSOLE: consoleFile, VITRINE_WEBKIT_DATA: path.join(dir, 'data') };
  const server = spawn(WEBKIT_DRIVER, [`--port=${port}`], { env, stdio: 'ignore' });
  let driver: WebDriver;
  try {
    await waitForDriver(port, server);
    driver = await new Builder()
      .usingServer(`http://127.0.0.1:${port}`)
      .withCapabilities({ browserName: 'VitrineWebKit', pageLoadStrategy: 'normal', 'webkitgtk:browserOptions': { binary: HOST, args: ['--automation'] } })
      .build();
    await driver.manage().setTimeouts({ script: 30_000, pageLoad: 30_000 });
  } catch (e) {
    server.kill();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const handles = [await driver.getWindowHandle()];
  return {
    engine: 'webkit',
    async goto(url) {
      await driver.get(url);
    },
    async click(selector, inner) {
      const host = await driver.findElement(By.css(selector));
      await (inner ? await (await host.getShadowRoot()).findElement(By.css(inner)) : host).click();
    },
    async type(selector, text) {
      // The field may not be there yet (a page still rendering): looked for, up to 15 s.
      await (await driver.wait(until.elementLocated(By.css(selector)), 15_000)).sendKeys(text);
    },
    async screenshot(selector, file) {
      // WebKitWebDriver's element pictures come out partly black here (its clip is off by the
      // page's scroll), while its viewport picture is right: the element is scrolled to the top
      // of the viewport and painted there (two frames), and the viewport is taken.
      const element = await driver.findElement(By.css(selector));
      await driver.executeAsyncScript(
        'const done = arguments[1]; arguments[0].scrollIntoView({ block: "start" }); requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50)));',
        element,
      );
      writeFileSync(file, Buffer.from(await driver.takeScreenshot(), 'base64'));
    },
    async back() {
      await driver.navigate().back();
    },
    async forward() {
      await driver.navigate().forward();
    },
    async url() {
      return driver.getCurrentUrl();
    },
    async evaluate<A, T>(fn: PageFunction<A, T>, arg: A): Promise<T> {
      const script = `const done = arguments[arguments.length - 1];
        Promise.resolve().then(() => (${fn.toString()})(arguments[0])).then((value) => done({ value }), (e) => done({ error: String(e && e.stack || e) }));`;
      const result = (await driver.executeAsyncScript(script, arg)) as { value?: T; error?: string };
      if (result.error !== undefined) throw new Error(`evaluate failed in the page: ${result.error}`);
      return result.value as T;
    },
    async newTab() {
      await driver.switchTo().newWindow('tab');
      handles.push(await driver.getWindowHandle());
    },
    async closeTab() {
      await driver.close();
      handles.pop();
      await driver.switchTo().window(handles.at(-1)!);
    },
    async console() {
      return parseConsole(readFileSync(consoleFile, 'utf8'));
    },
    async close() {
      try {
        await driver.quit();
      } finally {
        server.kill();
        // The web process may still be writing its data as it goes (a busy machine saw it past a
        // second): retried for up to 10 s, as Node does for ENOTEMPTY and EBUSY, then left in /tmp
        // with a note. A session's own temporary directory is not what a journey tests.
        try {
          rmSync(dir, { recursive: true, force: true, maxRetries: 50, retryDelay: 200 });
        } catch (e) {
          console.warn(`webkit session: ${dir} left behind (${String(e)})`);
        }
      }
    },
  };
}
