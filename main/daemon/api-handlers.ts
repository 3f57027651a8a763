/**
 * The contract's channels, each mapped to the Daemon: the one table both bridges serve (the
 * Electron IPC handlers and the headless daemon's HTTP API), so a channel cannot behave
 * differently in the desktop window and in a browser.
 */
import { isAbsolute } from 'node:path';
import type { ChannelHandlers } from '../../app/contract.js';
import { CosyncError } from '../../app/result.js';
import type { Session } from '../engine/session.js';
import { exportRecoveryKit, generateKey, storeImportedKey } from '../keys/key-admin.js';
import { readKit } from '../secrets/recovery-kit.js';
import type { Daemon } from './daemon.js';
import { deleteStoreCredentials, listStoreBuckets, setStoreCredentials } from './store-credentials.js';

export function channelHandlers(daemon: Daemon, session: Session): ChannelHandlers {
  return {
    'sync:version': async () => daemon.version,
    'sync:overview': async () => daemon.overview(),
    'sync:files': async ({ folderId }) => daemon.files(folderId),
    'sync:set-paused': async ({ folderId, paused }) => {
      await daemon.setPaused(folderId, paused);
      return null;
    },
    'sync:retry': async ({ folderId, path }) => {
      daemon.retry(folderId, path);
      return null;
    },
    'sync:set-bandwidth': async ({ bytesPerSecond }) => {
      await daemon.setBandwidth(bytesPerSecond);
      return null;
    },
    'sync:set-concurrency': async (caps) => {
      await daemon.setConcurrency(caps);
      return null;
    },
    'sync:add-folder': async (request) => daemon.addFolder(request),
    'sync:remove-folder': async ({ folderId }) => {
      await daemon.removeFolder(folderId);
      return null;
    },
    'sync:test-connection': async (location) => daemon.testConnection(location),
    'sync:keys': async () => daemon.keys(),
    'sync:generate-key': async ({ name }) => {
      await generateKey(session, name);
      return daemon.keySummary(name);
    },
    'sync:export-kit': async ({ name, path, passphrase }) => {
      if (!isAbsolute(path)) throw new CosyncError('usage', `the recovery kit needs an absolute file path; got ${JSON.stringify(path)}`);
      // The kit says where the key's data lives when a folder uses it.
      const folder = daemon.folderConfigs().find((candidate) => candidate.keyName === name);
      const location = folder === undefined ? {} : { endpoint: folder.endpoint, bucket: folder.bucket, prefix: folder.prefix };
      await exportRecoveryKit(session, name, path, location, { force: false, sealWith: passphrase === undefined ? undefined : async () => passphrase });
      return daemon.keySummary(name);
    },
    'sync:import-key': async ({ name, kitPath, passphrase }) => {
      if (!isAbsolute(kitPath)) throw new CosyncError('usage', `the recovery kit needs an absolute file path; got ${JSON.stringify(kitPath)}`);
      // Without a passphrase a sealed kit answers 'kit-passphrase-needed': the window then asks for it.
      const { key } = await readKit(kitPath, { passphrase: passphrase === undefined ? undefined : async () => passphrase });
      await storeImportedKey(session, name, key, { replace: false, fromKit: true });
      return daemon.keySummary(name);
    },
    'sync:rotate-key': async ({ folderId, kitPath }) => daemon.rotateKey(folderId, kitPath),
    'sync:verify-key': async ({ folderId }) => daemon.verifyKey(folderId),
    'sync:list-remote': async ({ folderId, scope, path }) => daemon.listRemote(folderId, scope, path),
    'sync:restore': async ({ folderId, scope, paths, destination }) => daemon.restore(folderId, scope, paths, destination),
    'sync:backup': async ({ folderId, paths, prefix }) => daemon.backup(folderId, paths, prefix),
    'sync:ignore-rules': async ({ folderId }) => daemon.ignoreRules(folderId),
    'sync:set-ignore-rules': async ({ folderId, text }) => {
      await daemon.setIgnoreRules(folderId, text);
      return null;
    },
    'sync:jobs': async () => daemon.jobs(),
    'sync:cancel-job': async ({ jobId }) => {
      daemon.cancel(jobId);
      return null;
    },
    'sync:activity': async ({ limit }) => daemon.activity(limit),
    'sync:credentials-set': async (request) => setStoreCredentials(session, request),
    'sync:credentials-delete': async ({ account }) => {
      await deleteStoreCredentials(session, account);
      return null;
    },
    'sync:list-buckets': async (request) => listStoreBuckets(session, request),
  };
}
