/**
 * `cosync keystore passphrase`: re-encrypts the file keystore under a new passphrase.
 *
 * Like the current passphrase, the new one never comes from the command line, where other users
 * can read it (ps, /proc/PID/cmdline): it comes from COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE,
 * COSYNC_KEYSTORE_NEW_PASSPHRASE, or the first line of a stdin that is not a terminal.
 */
import { CosyncError } from '../../app/result.js';
import { MIN_NEW_PASSPHRASE_CHARACTERS, NEW_KEYSTORE_PASSPHRASE } from '../secrets/file-secret-store.js';
import { passphraseFromVariablesOrStdin } from '../secrets/passphrase-source.js';
import type { Session } from '../engine/session.js';
import type { OptionTable, ParsedArguments } from './command-spec.js';
import { KEYSTORE_PASSPHRASE_MISUSE, NEW_PASSPHRASE_SOURCES } from './commands.js';

/** `cosync keystore passphrase`; resolves to the exit code. */
export async function changePassphraseCommand({ positionals }: ParsedArguments<OptionTable>, session: Session): Promise<number> {
  // A word here may be the passphrase itself: it is never repeated back (the parser does the same for options).
  if (positionals.length > 0) throw new CosyncError('usage', KEYSTORE_PASSPHRASE_MISUSE);
  if (session.keystoreKind === 'os') {
    throw new CosyncError(
      'usage',
      'cosync keystore passphrase changes the passphrase of the file keystore (--keystore file or COSYNC_KEYSTORE=file); the OS keychain has no passphrase of its own: it is unlocked by your login password, which you change with the OS (its account settings, or passwd)',
    );
  }
  const { io } = session;
  const newPassphrase = await passphraseFromVariablesOrStdin(NEW_KEYSTORE_PASSPHRASE, io, {
    noun: 'new passphrase',
    sources: NEW_PASSPHRASE_SOURCES,
    hint: ` (at least ${MIN_NEW_PASSPHRASE_CHARACTERS} characters)`,
  });
  const store = session.fileKeystore;
  const { items } = await store.changePassphrase(newPassphrase);
  session.logger.log('info', 'keystore-passphrase-changed', { file: store.file, items });
  io.stdout.write(`keystore ${store.file} re-encrypted under the new passphrase (${items} item${items === 1 ? '' : 's'}); the old passphrase no longer opens it\n`);
  io.stderr.write(
    'From now on COSYNC_KEYSTORE_PASSPHRASE_FILE (or COSYNC_KEYSTORE_PASSPHRASE) must give the new passphrase to every cosync command; restart a running `cosync serve` with it.\n',
  );
  return 0;
}
