#!/usr/bin/env node
// `npm run bench:scan`: the sync engine on a generated tree of BENCH_FILES (100,000) small files,
// against the local RGW with SSE-C, in one process:
//   1. initial index (walk, stat and hash every file)             → scan_initial_s
//   2. initial sync of every file (upload), for the steady state   → sync_initial_s
//   3. no-change rescan (walk and stat; nothing hashed or sent)    → scan_nochange_s
//      peer: `rclone size` of the same tree (a walk and a stat per file) → ratio
//   4. the daemon (watcher + loop): write a small file, time until its object is visible (HEAD),
//      BENCH_LATENCY_SAMPLES (20) times                           → latency_p50_s, latency_p95_s
//   peak RSS of the process over all phases (the initial upload's) → rss_mb; while the daemon runs → rss_daemon_mb
// Targets (issue 4): no-change rescan < 5 s, RSS < 300 MB, latency p50 < 1.5 s.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePeers, sh, useServices } from './bench-services.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const fileCount = Number(process.env.BENCH_FILES ?? 100_000);
const samples = Number(process.env.BENCH_LATENCY_SAMPLES ?? 20);
const perDirectory = 100;

ensurePeers({ rclone: 'rclone' });
const { services, stop: stopServices } = useServices(root);

const { Journal } = await import(join(root, 'dist/main/journal/journal.js'));
const { NULL_LOGGER } = await import(join(root, 'dist/main/log/logger.js'));
const { S3RemoteStore } = await import(join(root, 'dist/main/remote/s3-remote-store.js'));
const { SseCustomerKey, StoreCredentials } = await import(join(root, 'dist/main/secrets/secret-values.js'));
const { StatusTracker } = await import(join(root, 'dist/main/sync/status-tracker.js'));
const { SyncEngine } = await import(join(root, 'dist/main/sync/sync-engine.js'));
const { parseEndpoint } = await import(join(root, 'dist/app/target.js'));

let peakRss = 0;
let peakHeap = 0;
/** Peak RSS while the daemon watches the synced tree (the steady state), apart from the initial upload's peak. */
let peakDaemonRss = 0;
let daemonPhase = false;
const sampler = setInterval(() => {
  const usage = process.memoryUsage();
  peakRss = Math.max(peakRss, usage.rss);
  if (daemonPhase) peakDaemonRss = Math.max(peakDaemonRss, usage.rss);
  peakHeap = Math.max(peakHeap, usage.heapUsed);
}, 100);
const seconds = (from) => (performance.now() - from) / 1000;
/** Live heap after a full collection, when run with --expose-gc (to tell live data from garbage). */
const liveHeap = (label) => {
  if (typeof globalThis.gc !== 'function') return;
  globalThis.gc();
  console.log(`bench: live JS heap ${label}: ${Math.round(process.memoryUsage().heapUsed / 1024 / 1024)} MB, RSS ${Math.round(process.memoryUsage().rss / 1024 / 1024)} MB`);
};

const work = mkdtempSync(join(tmpdir(), 'cosync-bench-scan-'));
const folderPath = join(work, 'tree');
try {
  // ── the tree ──
  let started = performance.now();
  for (let d = 0; d * perDirectory < fileCount; d++) {
    const directory = join(folderPath, `d${Math.floor(d / 32)}`, `e${d}`);
    mkdirSync(directory, { recursive: true });
    for (let f = 0; f < perDirectory && d * perDirectory + f < fileCount; f++) writeFileSync(join(directory, `f${f}.txt`), `file ${d}/${f} ${randomBytes(8).toString('hex')}\n`);
  }
  console.log(`bench: generated ${fileCount} files in ${seconds(started).toFixed(1)} s`);

  // ── the engine ──
  const bucket = `cosync-bench-scan-${randomBytes(4).toString('hex')}`;
  const credentials = new StoreCredentials(services.COSYNC_TEST_S3_ACCESS_KEY, services.COSYNC_TEST_S3_SECRET_KEY);
  const target = { endpoint: parseEndpoint(services.COSYNC_TEST_S3_HTTP), bucket, prefix: 'tree/', region: 'us-east-1', pathStyle: true, dialect: 's3', sse: 'c', keyName: 'bench', kmsKeyId: undefined };
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const admin = new S3Client({
    endpoint: services.COSYNC_TEST_S3_HTTP,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: services.COSYNC_TEST_S3_ACCESS_KEY, secretAccessKey: services.COSYNC_TEST_S3_SECRET_KEY },
  });
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  admin.destroy();
  const encryption = { mode: 'c', key: SseCustomerKey.generate() };
  const folder = {
    id: 'bench',
    localPath: folderPath,
    endpoint: services.COSYNC_TEST_S3_HTTP,
    bucket,
    prefix: 'tree/',
    region: undefined,
    pathStyle: true,
    sse: 'c',
    keyName: 'bench',
    kmsKeyId: undefined,
    account: undefined,
    policy: 'keep',
    paused: false,
    createdAt: new Date().toISOString(),
  };
  const journal = new Journal(join(work, 'journal.sqlite'));
  // Each engine gets its own tracker, as each process would: a finished run's state is not kept alive.
  const engineOptions = () => ({
    journal,
    logger: NULL_LOGGER,
    status: new StatusTracker(),
    connect: async () => ({ store: new S3RemoteStore(target, credentials, { maxSockets: 16 }), encryption }),
    partConcurrency: 16,
    fileConcurrency: 16,
  });

  // One engine per run, dropped afterwards, as a separate `cosync sync --once` process would be.
  const runOnce = async () => {
    const engine = new SyncEngine([folder], engineOptions());
    try {
      const [result] = await engine.runOnce();
      return result;
    } finally {
      await engine.stop(0);
    }
  };

  // 1 + 2: initial index and sync (runOnce scans, lists, uploads everything).
  started = performance.now();
  const outcome = await runOnce();
  const syncInitial = seconds(started);
  if (!outcome.ok) throw new Error(`initial sync failed: ${outcome.error.message}`);
  const scanInitial = outcome.scan.seconds;
  if (outcome.result.failed.length > 0) throw new Error(`initial sync: ${outcome.result.failed.length} files failed, e.g. ${JSON.stringify(outcome.result.failed[0])}`);
  liveHeap('after the initial sync');
  console.log(`bench: initial index ${scanInitial.toFixed(2)} s, initial sync (index + ${outcome.result.actionsRun} uploads) ${syncInitial.toFixed(1)} s`);

  // 3: no-change rescan, and the peer walking the same tree.
  const second = await runOnce();
  if (!second.ok || second.result.actionsRun !== 0) throw new Error(`no-change run did ${second.ok ? second.result.actionsRun : second.error.message} actions`);
  const scanNoChange = second.scan.seconds;
  const peerStarted = performance.now();
  sh('rclone', ['size', folderPath]);
  const peer = seconds(peerStarted);
  console.log(`bench: no-change rescan ${scanNoChange.toFixed(2)} s; rclone size (walk + stat) ${peer.toFixed(2)} s; ratio ${(scanNoChange / peer).toFixed(2)}`);

  // 4: change latency through the watcher.
  const daemon = new SyncEngine([folder], { ...engineOptions(), stabilityMs: 500, remoteRescanMs: 3_600_000, localRescanMs: 3_600_000 });
  started = performance.now();
  daemonPhase = true;
  await daemon.start();
  const probe = new S3RemoteStore(target, credentials);
  // Wait for the daemon's first cycle (scan + listing) to settle: nothing in flight, nothing planned.
  const settle = async () => {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const [described] = daemon.describe();
      const folderSync = daemon.folders[0];
      if (folderSync !== undefined && !described.busy && described.lastScanSeconds !== undefined && folderSync.plan().actions.length === 0) return;
    }
  };
  await settle();
  liveHeap('with the daemon ready');
  if (process.env.BENCH_HEAP_SNAPSHOT) console.log(`bench: heap snapshot ${(await import('node:v8')).writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT)}`);
  console.log(`bench: daemon ready (watching, first cycle done) in ${seconds(started).toFixed(1)} s`);
  const latencies = [];
  for (let i = 0; i < samples; i++) {
    const directoryIndex = (i * 37) % Math.ceil(fileCount / perDirectory);
    const relative = `d${Math.floor(directoryIndex / 32)}/e${directoryIndex}/new-${i}.txt`;
    const before = performance.now();
    writeFileSync(join(folderPath, relative), `new ${i} ${randomBytes(8).toString('hex')}\n`);
    for (;;) {
      if ((await probe.headObject(`tree/${relative}`, encryption).catch(() => undefined)) !== undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (seconds(before) > 60) throw new Error(`${relative} did not appear within 60 s`);
    }
    latencies.push(seconds(before));
    console.log(`bench: sample ${i}: ${latencies.at(-1).toFixed(2)} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  probe.close();
  await daemon.stop();
  journal.close();
  latencies.sort((a, b) => a - b);
  const quantile = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  const daemonRss = process.memoryUsage().rss;
  console.log(`bench: RSS at the end of the daemon phase ${Math.round(daemonRss / 1024 / 1024)} MB; peak JS heap in use ${Math.round(peakHeap / 1024 / 1024)} MB`);
  console.log(`bench: latencies ${latencies.map((value) => value.toFixed(2)).join(' ')}`);
  clearInterval(sampler);
  console.log(`files=${fileCount}`);
  console.log(`sync_initial_s=${syncInitial.toFixed(1)}`);
  console.log(`scan_nochange_peer_rclone_s=${peer.toFixed(2)}`);
  console.log(`scan_initial_s=${scanInitial.toFixed(2)}`);
  console.log(`scan_nochange_s=${scanNoChange.toFixed(2)}`);
  console.log(`rss_daemon_mb=${Math.round(peakDaemonRss / 1024 / 1024)}`);
  console.log(`rss_mb=${Math.round(peakRss / 1024 / 1024)}`);
  console.log(`latency_p50_s=${quantile(0.5).toFixed(2)}`);
  console.log(`latency_p95_s=${quantile(0.95).toFixed(2)}`);
} finally {
  clearInterval(sampler);
  rmSync(work, { recursive: true, force: true });
  stopServices();
}
