// The page on a 390 × 844 phone in Chromium (WebGPU on SwiftShader), with every panel filled by a short run: no
// element inside a panel is wider than the panel (a wide table scrolls inside its own box instead), no number in a
// table breaks across lines, and a legend of many series folds into a toggle that is closed on the phone.

import type { Page } from 'playwright-core';
import { expect, it } from 'vitest';
import { describeBrowser, useBrowserPage, waitRuns } from './helpers/browser.ts';

/** Elements inside a panel that reach beyond it, outside any box that scrolls them (id or tag, and by how much). */
const beyondPanels = (page: Page) =>
  page.evaluate(() => {
    const out: { what: string; over: number }[] = [];
    for (const section of Array.from(document.querySelectorAll<HTMLElement>('main > section'))) {
      section.style.contentVisibility = 'visible';
      const box = section.getBoundingClientRect();
      for (const el of Array.from(section.querySelectorAll<HTMLElement>('*'))) {
        const r = el.getBoundingClientRect();
        if (r.width === 0 || r.height === 0) continue;
        // Inside a scroll box (or the box itself, which is checked as an element of its own): not the page's width.
        let scrolled = false;
        for (let a = el.parentElement; a && a !== section; a = a.parentElement)
          if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) scrolled = true;
        if (scrolled) continue;
        const over = Math.max(r.right - box.right, box.left - r.left);
        if (over > 0.5) out.push({ what: `${section.id}: ${el.id ? `#${el.id}` : el.tagName.toLowerCase()}`, over });
      }
      section.style.contentVisibility = '';
    }
    return out;
  });

/** Numbers in table cells that the layout broke across lines ("1.42e-" over "4"). */
const brokenNumbers = (page: Page) =>
  page.evaluate(() => {
    const out: string[] = [];
    const number = /[-−]?\d[\d,.]*(?:e[-+−]?\d+)?%?/gi;
    for (const cell of Array.from(document.querySelectorAll<HTMLElement>('main section td, main section th'))) {
      const section = cell.closest('section')!;
      section.style.contentVisibility = 'visible';
      // The cell's text nodes, and where each starts in its text.
      const nodes: { node: Text; at: number }[] = [];
      const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
      let text = '';
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        nodes.push({ node: n as Text, at: text.length });
        text += n.textContent ?? '';
      }
      for (const m of text.matchAll(number)) {
        if (m[0].length < 3) continue;
        const locate = (k: number): [Text, number] => {
          const hit = nodes.filter((x) => x.at <= k).at(-1)!;
          return [hit.node, k - hit.at];
        };
        // The first and the last character of the number: on one line unless the number broke.
        const charBox = (k: number): DOMRect => {
          const [node, offset] = locate(k);
          const r = document.createRange();
          r.setStart(node, offset);
          r.setEnd(node, offset + 1);
          return r.getBoundingClientRect();
        };
        const first = charBox(m.index);
        const tail = charBox(m.index + m[0].length - 1);
        if (first && tail && Math.abs(first.top - tail.top) > 2) out.push(`${section.id}: ${m[0]}`);
      }
      section.style.contentVisibility = '';
    }
    return out;
  });

describeBrowser('the page on a 390 px phone', () => {
  const app = useBrowserPage();

  it('keeps every element inside its panel, numbers whole, and folds long legends', async () => {
    const { page, errors } = await app.open();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.locator('#tr-steps').fill('100');
    await page.locator('#tr-run').click();
    await waitRuns(page, 'train', 1);
    await page.locator('#pg-step').click();
    await waitRuns(page, 'playground', 1);
    await page.locator('#pop-count').fill('100');
    await page.locator('#pop-steps').fill('100');
    await page.locator('#pop-run').click();
    await waitRuns(page, 'population', 1);
    await page.locator('#ls-grid').fill('16');
    await page.locator('#ls-run').click();
    await waitRuns(page, 'landscape', 1);
    await page.locator('#ur-run').click();
    await waitRuns(page, 'unroll', 1);
    await page.locator('#tp-sizes').fill('64, 256');
    await page.locator('#tp-t').fill('8');
    await page.locator('#tp-reps').fill('1');
    await page.locator('#tp-run').click();
    await waitRuns(page, 'throughput', 1);
    await page.locator('#vf-n').fill('100');
    await page.locator('#vf-run').click();
    await waitRuns(page, 'verify', 1);
    await page.waitForTimeout(300); // ResizeObserver → charts follow the width

    expect(await beyondPanels(page)).toEqual([]);
    expect(await brokenNumbers(page)).toEqual([]);
    // Verify's table is wider than the phone: it scrolls inside its own box.
    const vf = await page.locator('#vf-table').evaluate((t) => ({ scroll: t.scrollWidth, client: t.clientWidth }));
    expect(vf.scroll).toBeGreaterThan(vf.client);
    // The unroll study's legend (one entry per series) is folded, closed, and no taller than a line.
    const fold = page.locator('#ur-chart details.legend-fold');
    expect(await fold.count()).toBe(1);
    expect(await fold.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(false);
    expect(await fold.locator('summary').textContent()).toMatch(/^Legend: \d+ series$/);
    const heights = await page.evaluate(() => ({
      legend: document.querySelector('#ur-chart details.legend-fold')!.getBoundingClientRect().height,
      chart: document.querySelector('#ur-chart canvas')!.getBoundingClientRect().height,
    }));
    expect(heights.legend).toBeLessThan(heights.chart / 4);
    // At 1440 px the legend opens (the toggle stays for closing it).
    await page.setViewportSize({ width: 1440, height: 900 });
    await expect.poll(() => fold.evaluate((d) => (d as HTMLDetailsElement).open)).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 300_000);
});
