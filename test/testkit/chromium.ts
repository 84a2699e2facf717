/**
 * Headless Chromium for end-to-end tests: Debian's `chromium` package driven by playwright-core (no
 * browser download). The flags keep it from reaching for the network, which this machine does not have.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = process.env.PARLEY_TEST_CHROMIUM ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * For `describe(..., { skip: chromiumMissing })`: `false` (run) unless `PARLEY_TEST_SKIP_BROWSER=1` says
 * to skip. A missing Chromium is not a reason to skip: the browser tests then fail with the install hint.
 */
export const chromiumMissing: string | false =
  process.env.PARLEY_TEST_SKIP_BROWSER === '1' ? 'PARLEY_TEST_SKIP_BROWSER=1' : false;

export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install it (apt-get install chromium), set PARLEY_TEST_CHROMIUM, ` +
        'or skip the browser tests with PARLEY_TEST_SKIP_BROWSER=1',
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}
