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
import type { Session } from '../session/session.js';
import { parse } from './cli-options.js';

const NEW_PASSPHRASE_SOURCES =
  'put the new passphrase in a file only you can read (chmod 600) and set COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE to its path, set COSYNC_KEYSTORE_NEW_PASSPHRASE, or pipe it on stdin';

/** `cosync keystore ACTION …`; resolves to the exit code. */
export async function keystoreCommand(args: ReadonlyArray<string>, session: Session): Promise<number> {
  const [action, ...rest] = args;
  // A word in this place may be a passphrase typed as an argument by mistake: it is never repeated back.
  if (action !== 'passphrase') throw new CosyncError('usage', 'expected: cosync keystore passphrase (the only keystore action)');
  return changePassphraseCommand(rest, session);
}

async function changePassphraseCommand(args: ReadonlyArray<string>, session: Session): Promise<number> {
  refuseArguments(args, session);
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

/**
 * The command takes only the global options. Neither a positional nor an unknown option is
 * echoed in the error, since either may be the passphrase itself.
 */
function refuseArguments(args: ReadonlyArray<string>, session: Session): void {
  const misuse = new CosyncError('usage', `cosync keystore passphrase takes no arguments: the new passphrase is never read from the command line, where other users can see it; ${NEW_PASSPHRASE_SOURCES}`);
  let positionals: ReadonlyArray<string>;
  try {
    ({ positionals } = parse(args, {}, session));
  } catch (error) {
    // A bad --keystore value is reported as usual; parseArgs's own errors quote the option.
    if (error instanceof CosyncError) throw error;
    throw misuse;
  }
  if (positionals.length > 0) throw misuse;
}
