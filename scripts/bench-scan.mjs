#!/usr/bin/env node
// `npm run bench:scan`: the sync engine on a generated tree of BENCH_FILES (100,000) small files,
// against the local RGW with SSE-C. Each phase runs in a process of its own, as `cosync sync
// --once` and `cosync serve` would, so each peak RSS is that phase's alone (the kernel's
// high-water mark of the process, not a sample):
//   1. initial index (walk, stat and hash every file)             → scan_initial_s
//   2. initial sync of every file (upload), for the steady state   → sync_initial_s, rss_mb
//   3. no-change rescan (walk and stat; nothing hashed or sent)    → scan_nochange_s, rss_nochange_mb
//      peer: `rclone size` of the same tree (a walk and a stat per file) → ratio
//   4. the daemon (watcher + loop): write a small file, time until its object is visible (HEAD),
//      BENCH_LATENCY_SAMPLES (20) times                           → latency_p50_s, latency_p95_s, rss_daemon_mb
// Targets (issue 4): no-change rescan < 5 s, RSS < 300 MB, latency p50 < 1.5 s.
// BENCH_TRACE=1 prints RSS and heap once a second in each phase.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePeers, sh, useServices } from './bench-services.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const script = fileURLToPath(import.meta.url);
const fileCount = Number(process.env.BENCH_FILES ?? 100_000);
const samples = Number(process.env.BENCH_LATENCY_SAMPLES ?? 20);
const perDirectory = 100;
const seconds = (from) => (performance.now() - from) / 1000;
const mb = (bytes) => Math.round(bytes / 1024 / 1024);

if (process.argv[2] === 'phase') {
  await runPhase(process.argv[3], JSON.parse(process.env.BENCH_CONTEXT));
  // Done: idle keep-alive sockets must not hold the phase open.
  process.exit(0);
} else {
  await orchestrate();
}

/** The parent: the tree, the bucket, each phase in a child process, the peer, the figures. */
async function orchestrate() {
  ensurePeers({ rclone: 'rclone' });
  const { services, stop: stopServices } = useServices(root);
  const work = mkdtempSync(join(tmpdir(), 'cosync-bench-scan-'));
  const folderPath = join(work, 'tree');
  try {
    let started = performance.now();
    for (let d = 0; d * perDirectory < fileCount; d++) {
      const directory = join(folderPath, `d${Math.floor(d / 32)}`, `e${d}`);
      mkdirSync(directory, { recursive: true });
      for (let f = 0; f < perDirectory && d * perDirectory + f < fileCount; f++) writeFileSync(join(directory, `f${f}.txt`), `file ${d}/${f} ${randomBytes(8).toString('hex')}\n`);
    }
    console.log(`bench: generated ${fileCount} files in ${seconds(started).toFixed(1)} s`);

    const bucket = `cosync-bench-scan-${randomBytes(4).toString('hex')}`;
    const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
    const admin = new S3Client({
      endpoint: services.COSYNC_TEST_S3_HTTP,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: services.COSYNC_TEST_S3_ACCESS_KEY, secretAccessKey: services.COSYNC_TEST_S3_SECRET_KEY },
    });
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    admin.destroy();
    // A throwaway key for a throwaway bucket, handed to the phases through their environment.
    const context = { services, bucket, folderPath, journalFile: join(work, 'journal.sqlite'), keyBase64: randomBytes(32).toString('base64'), samples };

    const initial = await childPhase('initial', context);
    console.log(`bench: initial index ${initial.scanSeconds.toFixed(2)} s, initial sync (index + ${initial.actions} uploads) ${initial.syncSeconds.toFixed(1)} s, peak RSS ${initial.maxRssMb} MB`);
    const noChange = await childPhase('nochange', context);
    started = performance.now();
    sh('rclone', ['size', folderPath]);
    const peer = seconds(started);
    console.log(`bench: no-change rescan ${noChange.scanSeconds.toFixed(2)} s (peak RSS ${noChange.maxRssMb} MB); rclone size (walk + stat) ${peer.toFixed(2)} s; ratio ${(noChange.scanSeconds / peer).toFixed(2)}`);
    const daemon = await childPhase('daemon', context);
    const latencies = [...daemon.latencies].sort((a, b) => a - b);
    const quantile = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    console.log(`bench: daemon ready in ${daemon.readySeconds.toFixed(1)} s; latencies ${latencies.map((value) => value.toFixed(2)).join(' ')}; peak RSS ${daemon.maxRssMb} MB`);

    console.log(`files=${fileCount}`);
    console.log(`sync_initial_s=${initial.syncSeconds.toFixed(1)}`);
    console.log(`scan_nochange_peer_rclone_s=${peer.toFixed(2)}`);
    console.log(`scan_initial_s=${initial.scanSeconds.toFixed(2)}`);
    console.log(`scan_nochange_s=${noChange.scanSeconds.toFixed(2)}`);
    console.log(`rss_nochange_mb=${noChange.maxRssMb}`);
    console.log(`rss_daemon_mb=${daemon.maxRssMb}`);
    console.log(`rss_mb=${initial.maxRssMb}`);
    console.log(`latency_p50_s=${quantile(0.5).toFixed(2)}`);
    console.log(`latency_p95_s=${quantile(0.95).toFixed(2)}`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    stopServices();
  }
}

/** Runs one phase in a fresh Node process; resolves to what it reports. */
function childPhase(name, context) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', script, 'phase', name], {
      env: { ...process.env, BENCH_CONTEXT: JSON.stringify(context) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let result;
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('RESULT ')) result = JSON.parse(line.slice('RESULT '.length));
        else console.log(line);
      }
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 && result !== undefined ? resolve(result) : reject(new Error(`phase ${name} failed (exit ${code})`))));
  });
}

/** A child: one phase, as its own process. */
async function runPhase(name, context) {
  const { services } = context;
  const { Journal } = await import(join(root, 'dist/main/journal/journal.js'));
  const { NULL_LOGGER } = await import(join(root, 'dist/main/log/logger.js'));
  const { S3RemoteStore } = await import(join(root, 'dist/main/remote/s3-remote-store.js'));
  const { SseCustomerKey, StoreCredentials } = await import(join(root, 'dist/main/secrets/secret-values.js'));
  const { StatusTracker } = await import(join(root, 'dist/main/sync/status-tracker.js'));
  const { SyncEngine } = await import(join(root, 'dist/main/sync/sync-engine.js'));
  const { parseEndpoint } = await import(join(root, 'dist/app/target.js'));
  const { parseBase64Key } = await import(join(root, 'dist/app/keys.js'));

  const tracer =
    process.env.BENCH_TRACE &&
    setInterval(() => {
      const usage = process.memoryUsage();
      console.error(`trace ${name} rss=${mb(usage.rss)} heap=${mb(usage.heapUsed)}/${mb(usage.heapTotal)} external=${mb(usage.external)}`);
    }, 1000);
  if (tracer) tracer.unref();
  const credentials = new StoreCredentials(services.COSYNC_TEST_S3_ACCESS_KEY, services.COSYNC_TEST_S3_SECRET_KEY);
  const target = { endpoint: parseEndpoint(services.COSYNC_TEST_S3_HTTP), bucket: context.bucket, prefix: 'tree/', region: 'us-east-1', pathStyle: true, dialect: 's3', sse: 'c', keyName: 'bench', kmsKeyId: undefined };
  const encryption = { mode: 'c', key: new SseCustomerKey(parseBase64Key(context.keyBase64)) };
  const folder = {
    id: 'bench',
    localPath: context.folderPath,
    endpoint: services.COSYNC_TEST_S3_HTTP,
    bucket: context.bucket,
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
  const journal = new Journal(context.journalFile);
  const engineOptions = {
    journal,
    logger: NULL_LOGGER,
    status: new StatusTracker(),
    connect: async () => ({ store: new S3RemoteStore(target, credentials, { maxSockets: 16 }), encryption }),
    partConcurrency: 16,
    fileConcurrency: 16,
  };
  // The kernel's high-water mark of this process's RSS (maxRSS is in KiB).
  const report = (values) => console.log(`RESULT ${JSON.stringify({ ...values, maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}`);

  if (name === 'initial' || name === 'nochange') {
    const engine = new SyncEngine([folder], engineOptions);
    const started = performance.now();
    const [outcome] = await engine.runOnce();
    const syncSeconds = seconds(started);
    await engine.stop(0);
    journal.close();
    if (!outcome.ok) throw new Error(`${name}: ${outcome.error.message}`);
    if (outcome.result.failed.length > 0) throw new Error(`${name}: ${outcome.result.failed.length} files failed, e.g. ${JSON.stringify(outcome.result.failed[0])}`);
    if (name === 'nochange' && outcome.result.actionsRun !== 0) throw new Error(`the no-change run did ${outcome.result.actionsRun} actions`);
    report({ scanSeconds: outcome.scan.seconds, syncSeconds, actions: outcome.result.actionsRun });
    return;
  }

  // The daemon: watcher + loop; the latency from writing a file to its object being visible.
  const daemon = new SyncEngine([folder], { ...engineOptions, stabilityMs: 500, remoteRescanMs: 3_600_000, localRescanMs: 3_600_000 });
  const started = performance.now();
  await daemon.start();
  const probe = new S3RemoteStore(target, credentials);
  // Wait for the first cycle (scan + listing) to settle: nothing in flight, nothing planned.
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const [described] = daemon.describe();
    const folderSync = daemon.folders[0];
    if (folderSync !== undefined && !described.transferring && !described.cycling && described.lastScanSeconds !== undefined && folderSync.plan().actions.length === 0) break;
  }
  const readySeconds = seconds(started);
  if (typeof globalThis.gc === 'function') {
    globalThis.gc();
    console.log(`bench: live JS heap with the daemon ready: ${mb(process.memoryUsage().heapUsed)} MB, RSS ${mb(process.memoryUsage().rss)} MB`);
  }
  if (process.env.BENCH_HEAP_SNAPSHOT) console.log(`bench: heap snapshot ${(await import('node:v8')).writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT)}`);
  const latencies = [];
  for (let i = 0; i < context.samples; i++) {
    const directoryIndex = (i * 37) % Math.ceil(fileCount / perDirectory);
    const relative = `d${Math.floor(directoryIndex / 32)}/e${directoryIndex}/new-${i}.txt`;
    const before = performance.now();
    writeFileSync(join(context.folderPath, relative), `new ${i} ${randomBytes(8).toString('hex')}\n`);
    for (;;) {
      if ((await probe.headObject(`tree/${relative}`, encryption).catch(() => undefined)) !== undefined) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (seconds(before) > 60) throw new Error(`${relative} did not appear within 60 s`);
    }
    latencies.push(seconds(before));
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  probe.close();
  await daemon.stop();
  journal.close();
  report({ readySeconds, latencies });
}
