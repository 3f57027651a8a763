#!/usr/bin/env node
// `npm run bench:upload`: cosync vs rclone and awscli (Debian's) uploading the same files to the
// same RGW HTTPS endpoint with the same SSE-C key and equal concurrency, in one run.
// Prints per tool and shape: MiB/s (and files/s), client CPU seconds per GiB, peak RSS; then one
// line per shape: `ratio SHAPE throughput=X cpu=Y` (X = cosync ÷ faster peer, Y = cosync ÷ leaner peer).
//
// Options (environment): BENCH_SHAPES=1x1GiB,10x100MiB,1000x64KiB  BENCH_CONCURRENCY=8  BENCH_PART_MIB=16
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensurePeers, sh, useServices } from './bench-services.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const MiB = 1024 * 1024;
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const partMiB = Number(process.env.BENCH_PART_MIB ?? 16);
const shapeNames = (process.env.BENCH_SHAPES ?? '1x1GiB,10x100MiB,1000x64KiB').split(',');
const UNITS = { KiB: 1024, MiB, GiB: 1024 * MiB };

function parseShape(name) {
  const match = /^(\d+)x(\d+)(KiB|MiB|GiB)$/.exec(name);
  if (!match) throw new Error(`bad shape ${name}: use COUNTxSIZE like 10x100MiB`);
  return { name, count: Number(match[1]), bytes: Number(match[2]) * UNITS[match[3]] };
}


// ── services and peers ───────────────────────────────────────────────────────────
ensurePeers({ rclone: 'rclone', aws: 'awscli', time: 'time' });
const { services, stop: stopServices } = useServices(root);
const endpoint = services.COSYNC_TEST_S3_HTTPS;
const work = mkdtempSync(join(tmpdir(), 'cosync-bench-'));

// ── the key, in each tool's form ────────────────────────────────────────────────
const key = randomBytes(32);
writeFileSync(join(work, 'key.bin'), key);
const keyName = `bench-${randomBytes(4).toString('hex')}`;
const cosyncEnv = {
  PATH: process.env.PATH,
  HOME: services.COSYNC_TEST_KEYRING_HOME,
  DBUS_SESSION_BUS_ADDRESS: services.DBUS_SESSION_BUS_ADDRESS,
  NODE_EXTRA_CA_CERTS: services.COSYNC_TEST_CA,
  COSYNC_CONFIG_DIR: join(work, 'cosync-config'),
  COSYNC_SECRET_ID: services.COSYNC_TEST_S3_ACCESS_KEY,
  COSYNC_SECRET_KEY: services.COSYNC_TEST_S3_SECRET_KEY,
};
sh(process.execPath, [join(root, 'bin/cosync.js'), 'key', 'import', keyName, '--base64', key.toString('base64')], { env: cosyncEnv });

const awsConfig = join(work, 'aws-config');
writeFileSync(
  awsConfig,
  `[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n  max_concurrent_requests = ${concurrency}\n  multipart_threshold = ${partMiB}MB\n  multipart_chunksize = ${partMiB}MB\n`,
);
const awsEnv = {
  PATH: process.env.PATH,
  HOME: work,
  AWS_CONFIG_FILE: awsConfig,
  AWS_ACCESS_KEY_ID: services.COSYNC_TEST_S3_ACCESS_KEY,
  AWS_SECRET_ACCESS_KEY: services.COSYNC_TEST_S3_SECRET_KEY,
  AWS_CA_BUNDLE: services.COSYNC_TEST_CA,
};
const rcloneEnv = {
  PATH: process.env.PATH,
  HOME: work,
  RCLONE_CONFIG_R_TYPE: 's3',
  RCLONE_CONFIG_R_PROVIDER: 'Ceph',
  RCLONE_CONFIG_R_ENDPOINT: endpoint,
  RCLONE_CONFIG_R_ACCESS_KEY_ID: services.COSYNC_TEST_S3_ACCESS_KEY,
  RCLONE_CONFIG_R_SECRET_ACCESS_KEY: services.COSYNC_TEST_S3_SECRET_KEY,
  RCLONE_CONFIG_R_FORCE_PATH_STYLE: 'true',
};

const aws = (args) => sh('/usr/bin/aws', ['--endpoint-url', endpoint, ...args], { env: awsEnv });

const tools = {
  cosync: (dir, bucket) => ({
    command: process.execPath,
    args: [join(root, 'bin/cosync.js'), 'backup', dir, '--endpoint', endpoint, '--bucket', bucket, '--key', keyName, '--concurrency', String(concurrency), '--part-size', String(partMiB), '--multipart-threshold', String(partMiB)],
    env: cosyncEnv,
  }),
  awscli: (dir, bucket) => ({
    command: '/usr/bin/aws',
    args: ['--endpoint-url', endpoint, 's3', 'cp', dir, `s3://${bucket}/`, '--recursive', '--only-show-errors', '--sse-c', 'AES256', '--sse-c-key', `fileb://${join(work, 'key.bin')}`],
    env: awsEnv,
  }),
  rclone: (dir, bucket) => ({
    command: 'rclone',
    args: ['--config', '/dev/null', '--ca-cert', services.COSYNC_TEST_CA, 'copy', dir, `R:${bucket}`, '--transfers', String(concurrency), '--s3-upload-concurrency', String(concurrency), '--s3-chunk-size', `${partMiB}M`, '--s3-upload-cutoff', `${partMiB}M`, '--s3-sse-customer-algorithm', 'AES256', '--s3-sse-customer-key-base64', key.toString('base64'), '--s3-disable-checksum'],
    env: rcloneEnv,
  }),
};

function makeShape(shape) {
  const dir = join(work, 'data', shape.name);
  mkdirSync(dir, { recursive: true });
  const block = randomBytes(Math.min(shape.bytes, 16 * MiB));
  for (let index = 0; index < shape.count; index++) {
    const fd = openSync(join(dir, `f${String(index).padStart(5, '0')}.bin`), 'w');
    for (let written = 0; written < shape.bytes; written += block.length) {
      // Vary each block so no layer can deduplicate.
      block.writeUInt32LE(index, 0);
      block.writeUInt32LE(written / block.length, 4);
      writeSync(fd, block, 0, Math.min(block.length, shape.bytes - written));
    }
    // On disk before the first tool starts: otherwise the kernel's write-back of a fresh GiB runs
    // during the first tool's measurement (cosync's) and takes its CPU and disk.
    fsyncSync(fd);
    closeSync(fd);
  }
  return dir;
}

function measure(run) {
  const result = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %U %S %M', run.command, ...run.args], { env: run.env, encoding: 'utf8', maxBuffer: 64 * MiB });
  const line = (result.stderr.match(/BENCH [\d.]+ [\d.]+ [\d.]+ \d+/g) ?? []).at(-1);
  if (result.status !== 0 || line === undefined) throw new Error(`${run.command} failed (${result.status}):\n${result.stderr.slice(-2000)}\n${result.stdout.slice(-2000)}`);
  const [, wall, user, system, rssKiB] = line.split(' ').map(Number);
  return { wall, cpu: user + system, rssMB: (rssKiB * 1024) / 1e6 };
}

const results = [];
try {
  for (const shape of shapeNames.map(parseShape)) {
    const dir = makeShape(shape);
    const totalGiB = (shape.count * shape.bytes) / (1024 * MiB);
    for (const [tool, build] of Object.entries(tools)) {
      const bucket = `bench-${tool}-${randomBytes(3).toString('hex')}`;
      aws(['s3', 'mb', `s3://${bucket}`]);
      const figures = measure(build(dir, bucket));
      const listed = aws(['s3', 'ls', `s3://${bucket}/`, '--recursive']).trim().split('\n').filter(Boolean).length;
      if (listed !== shape.count) throw new Error(`${tool} uploaded ${listed} of ${shape.count} objects for ${shape.name}`);
      aws(['s3', 'rb', `s3://${bucket}`, '--force']);
      const row = {
        shape: shape.name,
        tool,
        mibPerS: (shape.count * shape.bytes) / MiB / figures.wall,
        filesPerS: shape.count / figures.wall,
        cpuPerGiB: figures.cpu / totalGiB,
        rssMB: figures.rssMB,
        wall: figures.wall,
      };
      results.push(row);
      console.log(
        `${row.shape.padEnd(11)} ${tool.padEnd(7)} ${row.mibPerS.toFixed(1).padStart(7)} MiB/s ${row.filesPerS.toFixed(1).padStart(8)} files/s ${row.cpuPerGiB.toFixed(2).padStart(6)} CPU-s/GiB ${row.rssMB.toFixed(0).padStart(5)} MB RSS  (${row.wall.toFixed(2)} s)`,
      );
      // Let RGW's garbage collector free the deleted data (memstore keeps it in RAM).
      await new Promise((resolve) => setTimeout(resolve, 6000));
    }
    rmSync(dir, { recursive: true, force: true });
  }
  for (const shape of shapeNames) {
    const rows = results.filter((row) => row.shape === shape);
    const ours = rows.find((row) => row.tool === 'cosync');
    const peers = rows.filter((row) => row.tool !== 'cosync');
    const fastest = Math.max(...peers.map((row) => row.mibPerS));
    const leanest = Math.min(...peers.map((row) => row.cpuPerGiB));
    console.log(`ratio ${shape} throughput=${(ours.mibPerS / fastest).toFixed(2)} cpu=${(ours.cpuPerGiB / leanest).toFixed(2)}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  stopServices();
}
