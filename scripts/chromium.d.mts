import type { BrowserContext, BrowserContextOptions } from 'playwright-core';

export declare const CHROMIUM_PATH: string;
export declare function launchChromium(
  viewport?: { width: number; height: number },
  options?: Pick<BrowserContextOptions, 'locale' | 'deviceScaleFactor' | 'colorScheme' | 'reducedMotion'>,
): Promise<{ context: BrowserContext; close(): Promise<void> }>;
