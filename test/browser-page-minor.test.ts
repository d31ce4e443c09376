// Small things of the page in Chromium (WebGPU on SwiftShader): a form's run and Stop buttons stay on one row
// whatever fields are shown, a "Not run" message goes once its field is fixed, and a preset leaves no other
// preset's cells-study settings in the URL.

import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeBrowser, useBrowserPage } from './helpers/browser.ts';

const top = (page: Page, id: string): Promise<number> =>
  page.locator(`#${id}`).evaluate((e) => Math.round(e.getBoundingClientRect().top));

describeBrowser('the page’s small things', () => {
  const app = useBrowserPage();

  it('keeps Stop beside its button, clears a fixed field’s Not run message, and resets the cells study with other presets', async () => {
    const { page, errors } = await app.open();
    for (const [w, h] of [
      [1440, 900],
      [1280, 900],
      [390, 844],
    ]) {
      await page.setViewportSize({ width: w, height: h });
      for (const data of ['seed', 'sine', 'csv']) {
        await page.locator('#tr-data').selectOption(data);
        expect(await top(page, 'tr-stop'), `Train at ${w} px, ${data}`).toBe(await top(page, 'tr-run'));
      }
      for (const p of ['pop', 'ls', 'tp'])
        expect(await top(page, `${p}-stop`), `${p} at ${w} px`).toBe(await top(page, `${p}-run`));
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.locator('#tr-data').selectOption('seed');

    // A bad field: "Not run" names it; fixing it removes the message (nothing has run yet).
    await page.locator('#tr-steps').fill('x');
    await page.locator('#tr-run').click();
    await expect.poll(() => page.locator('#tr-status').textContent()).toMatch(/^Not run: Steps: "x" is not a number/);
    await page.locator('#tr-steps').fill('50');
    expect(await page.locator('#tr-status').textContent()).toBe('Edited: run again to check the settings.');
    expect(await page.locator('#tr-status').getAttribute('data-state')).toBeNull();
    // Two bad fields: the message stays until both are fixed.
    await page.locator('#ls-grid').fill('1');
    await page.locator('#ls-xmax').fill('y');
    await page.locator('#ls-run').click();
    await expect.poll(() => page.locator('#ls-status').textContent()).toMatch(/^Not run: /);
    const marked = await page.locator('#landscape [aria-invalid="true"]').count();
    expect(marked).toBe(1); // the first bad field is named and marked
    await page.locator('#ls-xmax').fill('3');
    await page.locator('#ls-run').click();
    await expect.poll(() => page.locator('#ls-status').textContent()).toMatch(/^Not run: Grid points per axis: 1/);
    await page.locator('#ls-grid').fill('16');
    expect(await page.locator('#ls-status').textContent()).not.toMatch(/^Not run/);

    // The chaos preset sets the cells study; the notes' preset afterwards puts it back (the URL loses it).
    await page.locator('#preset').selectOption('chaos');
    await expect
      .poll(() => page.evaluate(() => location.search))
      .toMatch(/uc-t=100.*uc-hidden=32|uc-hidden=32.*uc-t=100/);
    await page.locator('#preset').selectOption('notes');
    await expect.poll(() => page.evaluate(() => location.search)).toContain('preset=notes');
    const q = await page.evaluate(() => location.search);
    expect(q).not.toContain('uc-t=');
    expect(q).not.toContain('uc-hidden=');
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);
});
