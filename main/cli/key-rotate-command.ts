/**
 * `cosync key rotate NAME --folder ID --kit-out FILE`: the CLI side of key rotation
 * (main/secrets/key-rotation.ts does the work). Progress goes to stderr, the outcome to stdout;
 * with --json every event is one JSON line on stdout.
 */
import { resolve } from 'node:path';
import { validateKeyName } from '../../app/keys.js';
import { COS_LIMITS, S3_LIMITS } from '../../app/part-size.js';
import { CosyncError } from '../../app/result.js';
import { folderTarget } from '../../app/sync-model.js';
import { assertKeySafeTransport } from '../../app/target.js';
import { CLI_FORMAT } from '../../app/format.js';
import { openEngine } from '../engine/engine.js';
import { rotateFolderKey, type KeyRotationEvent } from '../keys/key-rotation.js';
import { credentialsFor, type Session, type SessionIo } from '../engine/session.js';
import { checkedNewPassphrase } from '../secrets/passphrase-crypto.js';
import type { KitStyle } from '../secrets/recovery-kit.js';
import { kitPassphraseFrom, SEALED_KIT_ADVICE } from '../secrets/sealed-kit.js';
import { positiveInteger, sizingFromFlags } from './cli-options.js';
import { EXIT_CODES } from './exit-codes.js';
import { listenForInterrupt } from './interrupt.js';
import type { ParsedArguments } from './command-spec.js';
import type { KEY_ROTATE_OPTIONS } from './commands.js';
import { singleName } from './key-commands.js';
import { requireOption } from './target-flags.js';
import { findFolder } from '../daemon/folder-admin.js';

/** Progress lines on stderr are written at most this often (plus the first and the last). */
const PROGRESS_INTERVAL_MS = 2000;

/** `cosync key rotate NAME --folder ID --kit-out FILE`. */
export async function keyRotateCommand({ values, positionals }: ParsedArguments<typeof KEY_ROTATE_OPTIONS>, session: Session): Promise<number> {
  const keyName = validateKeyName(singleName(positionals, 'key rotate NAME --folder ID --kit-out FILE'));
  const folderId = requireOption(values.folder, 'folder ID', ' (the sync folder whose objects are re-encrypted; see `cosync folder list`)');
  const kitOut = values['kit-out'] === undefined ? undefined : resolve(values['kit-out']);
  const kit = rotationKitStyle(values, session.io);
  const concurrency = positiveInteger(values.concurrency, 'concurrency', 8, 64);
  const sizing = sizingFromFlags(values);
  const allFolders = (await session.config.load()).folders;
  const folder = findFolder(allFolders, folderId, 'cosync key rotate NAME --folder ID --kit-out FILE');
  const target = folderTarget(folder);
  assertKeySafeTransport(target.endpoint, target.sse);
  const credentials = await credentialsFor(session, folder.account);
  // No engine may write with the old key meanwhile: while serve, the desktop app or sync --once
  // runs, the rotation refuses to start (and they refuse to start while it runs).
  const engine = await openEngine(session, { claim: 'key-rotate', transfers: { parts: concurrency }, sizing });
  // Stopped between objects, a rotation leaves every object readable with the old or the new key (key-rotation.ts): a second Ctrl-C, exiting at once, keeps that too.
  const interruption = listenForInterrupt(() => session.io.stderr.write('cosync: stopping: no new object is re-encrypted; those in flight finish (Ctrl-C again quits at once)\n'));
  try {
    const store = await engine.stores.open(target, credentials);
    const result = await rotateFolderKey(
      { folder, keyName, kitOut, forceKit: values.force === true, kit, allFolders },
      {
        store,
        journal: engine.journal,
        keychain: session.keychain,
        config: session.config,
        logger: session.logger,
        limits: target.dialect === 'cos' ? COS_LIMITS : S3_LIMITS,
        sizing,
        concurrency,
        partQueue: engine.pool.parts,
        signal: interruption.signal,
        onEvent: values.json === true ? (event) => void session.io.stdout.write(`${JSON.stringify(event)}\n`) : rotationPrinter(session.io),
      },
    );
    if (values.json !== true) {
      session.io.stdout.write(
        `key ${keyName} rotated for folder ${folder.id}: ${result.reEncrypted} object${result.reEncrypted === 1 ? '' : 's'} re-encrypted now, ${result.alreadyDone} by an earlier run` +
          `${result.notSseC.length > 0 ? `, ${result.notSseC.length} not SSE-C (left as they are)` : ''}; ` +
          `${keyName} is now the key with fingerprint ${result.newFingerprint}; the old key (fingerprint ${result.oldFingerprint}) is no longer in the keychain and reads none of the folder's objects\n`,
      );
    }
    return 0;
  } catch (error) {
    if (!interruption.interrupted) throw error;
    // The rotation's own words say how to resume.
    session.io.stderr.write(`cosync: ${(error as Error).message}\n`);
    return EXIT_CODES.interrupted.code;
  } finally {
    interruption.dispose();
    await engine.close(0);
  }
}

/**
 * How the new key's kit is written: sealed unless --clear or --printable asks for it in clear
 * (--printable with --sealed is refused, as by `key export`). The passphrase is asked at most
 * once, and checked for length when asked, before any key is made.
 */
function rotationKitStyle(values: ParsedArguments<typeof KEY_ROTATE_OPTIONS>['values'], io: SessionIo): KitStyle {
  if (values.clear === true && values.sealed === true) throw new CosyncError('usage', 'a kit is either sealed or clear: give --sealed (the default) or --clear, not both');
  if (values.clear === true || (values.printable === true && values.sealed !== true)) return { printable: values.printable === true };
  let asked: Promise<string> | undefined;
  const sealWith = (): Promise<string> =>
    (asked ??= kitPassphraseFrom(io, true).then((passphrase) => {
      checkedNewPassphrase(passphrase, 'kit passphrase').fill(0);
      return passphrase;
    }));
  return { printable: values.printable === true, sealWith };
}

/** Human progress on stderr: what is to be done, then a line every few seconds, then the last one. */
function rotationPrinter(io: SessionIo): (event: KeyRotationEvent) => void {
  let lastProgressAt = 0;
  let bytesDone = 0;
  return (event) => {
    switch (event.type) {
      case 'warning':
        io.stderr.write(`cosync: warning: ${event.message}\n`);
        return;
      case 'kit-written':
        io.stderr.write(
          event.alreadyThere
            ? `cosync: ${event.file} already holds the new key's ${event.sealed ? 'sealed ' : ''}recovery kit (fingerprint ${event.fingerprint})\n`
            : event.sealed
              ? `cosync: the new key's sealed recovery kit is in ${event.file} (fingerprint ${event.fingerprint}); ${SEALED_KIT_ADVICE}\n`
              : `cosync: the new key's recovery kit is in ${event.file} (fingerprint ${event.fingerprint}); store it offline — anyone with it can read the data\n`,
        );
        return;
      case 'rotation-started':
        io.stderr.write(
          `cosync: ${event.resumed ? 'resuming the rotation of' : 'rotating'} key ${event.keyName} for folder ${event.folder} (fingerprint ${event.oldFingerprint} → ${event.newFingerprint}; ` +
            `the new key waits in keychain entry ${event.pendingKeyName}): ${event.objects} object${event.objects === 1 ? '' : 's'}, ` +
            `${event.toReEncrypt} to re-encrypt (${CLI_FORMAT.bytes(event.bytesToReEncrypt)}), ${event.alreadyDone} already re-encrypted` +
            `${event.notSseC > 0 ? `, ${event.notSseC} not SSE-C (left as they are)` : ''}\n`,
        );
        return;
      case 'object-re-encrypted': {
        bytesDone += event.bytes;
        const now = Date.now();
        if (event.done === 1 || event.done === event.total || now - lastProgressAt >= PROGRESS_INTERVAL_MS) {
          lastProgressAt = now;
          io.stderr.write(`cosync: re-encrypted ${event.done} of ${event.total} objects (${CLI_FORMAT.bytes(bytesDone)})\n`);
        }
        return;
      }
      case 'rotation-finished':
        io.stderr.write(`cosync: rotation finished in ${event.seconds.toFixed(1)} s\n`);
        return;
    }
  };
}
