import { chromium } from '@playwright/test';
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
const res = { cold: [], warm: [] };
for (let i = 0; i < 5; i++) {
  const ctx = await b.newContext({ viewport: { width: 1000, height: 900 } });
  const page = await ctx.newPage();
  for (const kind of ['cold', 'warm']) {
    await page.goto('http://127.0.0.1:5173/product/watches-' + (i + 1));
    const t = await page.evaluate(() => new Promise((resolve) => {
      const check = () => {
        const nav = performance.getEntriesByType('navigation')[0];
        const el = document.querySelector('[data-vitrine-slot="hero"]')?.shadowRoot?.querySelector('a.creative');
        if (el && nav.loadEventEnd > 0) resolve(performance.now() - nav.loadEventEnd); else requestAnimationFrame(check);
      };
      check();
    }));
    res[kind].push(Math.round(t));
  }
  if (i === 4) await page.screenshot({ path: '/tmp/product.png', fullPage: true });
  await ctx.close();
}
console.log(JSON.stringify(res));
await b.close();
