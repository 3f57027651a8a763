// `npm run bench:ui`: the file list with 100,000 files in Debian's Chromium — time to first
// render, and frame times while 1,000 status changes a second stream in and the list scrolls.
//
// The page is the built renderer, served exactly as `cosync serve` serves it, but the engine
// behind the HTTP bridge is a stand-in that speaks the same contract: a real engine would need
// 100,000 real uploads before the list looked like this, and what is measured here is the window.
//
// Targets (issue 6): first render < 1 s, p95 frame < 32 ms. Last lines: first_render_ms=…, frame_p95_ms=…
// Settings: BENCH_FILES (100000), BENCH_CHANGES_PER_SECOND (1000), BENCH_SECONDS (10).
/* global document, requestAnimationFrame -- inside page.evaluate, which runs in the browser */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RENDERER = join(ROOT, 'dist/renderer');
const FILES = Number(process.env.BENCH_FILES ?? 100_000);
const CHANGES_PER_SECOND = Number(process.env.BENCH_CHANGES_PER_SECOND ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const FOLDER = 'bench-0000';
const TOKEN = randomBytes(12).toString('hex');
const STATES = ['queued', 'hashing', 'uploading', 'verifying', 'synced'];

const now = Date.now();
const paths = Array.from({ length: FILES }, (_, index) => `photos/${String(index % 1000).padStart(4, '0')}/IMG_${String(index).padStart(6, '0')}.jpg`);
const statuses = paths.map((path, index) => ({ folderId: FOLDER, path, status: index % 97 === 0 ? { state: 'error', code: 'server', message: 'HTTP 503 SlowDown', retryAt: now + 60_000 } : { state: 'synced' }, changedAt: now - index }));
const counts = { queued: 0, hashing: 0, uploading: 0, verifying: 0, synced: FILES - Math.ceil(FILES / 97), error: Math.ceil(FILES / 97), ignored: 0, conflict: 0 };
const overview = {
  version: 'bench',
  paused: false,
  bandwidthLimit: null,
  concurrency: { files: 8, parts: 8 },
  throughput: Array.from({ length: 120 }, (_, index) => 5_000_000 + 2_000_000 * Math.sin(index / 8)),
  folders: [
    { id: FOLDER, localPath: '/home/bench/Photos', endpoint: 'https://cos.ap-guangzhou.myqcloud.com', bucket: 'bench-1250000000', prefix: 'photos/', sse: 'c', keyName: 'photos', policy: 'keep', activity: 'syncing', problem: undefined, degraded: undefined, counts, bytesTotal: FILES * 3_000_000, bytesPending: 10_000_000_000, bytesPerSecond: 5_000_000, etaSeconds: 2000 },
  ],
};

const answers = {
  'sync:version': () => 'bench',
  'sync:overview': () => overview,
  'sync:files': () => statuses,
  'sync:jobs': () => [],
  'sync:activity': () => [],
  'sync:keys': () => [],
};

const streams = new Set();
const server = createServer(async (request, response) => {
  const url = new URL(request.url, 'http://localhost');
  if (url.pathname === '/api/events') {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    response.write(': connected\n\n');
    streams.add(response);
    request.on('close', () => streams.delete(response));
    return;
  }
  if (url.pathname.startsWith('/api/call/')) {
    // The body is not needed (every benchmark answer ignores it), only consumed.
    request.resume();
    await new Promise((resolve) => request.on('end', resolve));
    const answer = answers[url.pathname.slice('/api/call/'.length)];
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(answer === undefined ? { ok: false, error: { code: 'unsupported', message: 'not in the benchmark' } } : { ok: true, value: answer() }));
    return;
  }
  const relative = normalize(url.pathname === '/' ? 'index.html' : url.pathname.slice(1));
  try {
    const body = await readFile(join(RENDERER, relative));
    response.writeHead(200, { 'content-type': { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' }[extname(relative)] ?? 'application/octet-stream' });
    response.end(body);
  } catch {
    response.writeHead(404);
    response.end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${server.address().port}/`;

// 1,000 changes a second as the engine's tracker sends them: ≤ 10 batches a second, newest per path.
let streaming;
function startStreaming() {
  let tick = 0;
  streaming = setInterval(() => {
    const changes = [];
    for (let index = 0; index < CHANGES_PER_SECOND / 10; index++) {
      const path = paths[Math.floor(Math.random() * FILES)];
      const state = STATES[(tick + index) % STATES.length];
      changes.push({ folderId: FOLDER, path, status: state === 'uploading' ? { state, bytesDone: 1_000_000, bytesTotal: 3_000_000 } : { state }, changedAt: Date.now() });
    }
    tick++;
    const event = `data: ${JSON.stringify({ type: 'status', batch: { changes, forgotten: [] } })}\n\n`;
    for (const stream of streams) stream.write(event);
  }, 100);
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

const browser = await launchChromium({ width: 1280, height: 900 });
try {
  const page = await browser.context.newPage();
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // Warm-up load (browser start, code cache), then the measured one.
  await page.goto(`${base}?token=${TOKEN}#files`);
  await page.waitForSelector('[data-path]', { timeout: 60_000 });
  const firstRenders = [];
  for (let run = 0; run < 3; run++) {
    await page.goto(`${base}?token=${TOKEN}#files`);
    await page.waitForSelector('[data-path]', { timeout: 60_000 });
    // The first frame with rows painted, from the start of navigation.
    firstRenders.push(await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve(performance.now())))));
  }
  const rowsInDom = await page.locator('[role="row"]').count();

  startStreaming();
  const frames = await page.evaluate(async (seconds) => {
    const scroller = document.querySelector('[data-testid="file-rows"]');
    const intervals = [];
    let last = performance.now();
    const end = last + seconds * 1000;
    await new Promise((resolve) => {
      const frame = (time) => {
        intervals.push(time - last);
        last = time;
        // Scroll steadily through the list, as a person flicking through it would.
        scroller.scrollTop = (scroller.scrollTop + 240) % (scroller.scrollHeight - scroller.clientHeight);
        if (time < end) requestAnimationFrame(frame);
        else resolve();
      };
      requestAnimationFrame(frame);
    });
    return intervals;
  }, SECONDS);
  clearInterval(streaming);
  const statusShown = await page.locator('[data-state="uploading"], [data-state="queued"], [data-state="hashing"], [data-state="verifying"]').count();

  const firstRender = Math.round(percentile(firstRenders, 50));
  const p95 = percentile(frames, 95);
  console.log(`files=${FILES} changes_per_second=${CHANGES_PER_SECOND} seconds=${SECONDS}`);
  console.log(`rows_in_dom=${rowsInDom} frames=${frames.length} frame_p50_ms=${percentile(frames, 50).toFixed(1)} frame_max_ms=${Math.max(...frames).toFixed(1)} streamed_rows_in_view=${statusShown}`);
  console.log(`first_render_runs_ms=${firstRenders.map((value) => Math.round(value)).join(',')} page_errors=${errors.length}`);
  console.log(`first_render_ms=${firstRender}`);
  console.log(`frame_p95_ms=${p95.toFixed(1)}`);
  if (errors.length > 0) process.exitCode = 1;
} finally {
  clearInterval(streaming);
  for (const stream of streams) stream.end();
  server.close();
  await browser.close();
}
