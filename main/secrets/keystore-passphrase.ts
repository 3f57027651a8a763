/**
 * Where the file keystore's passphrases come from: the current one for every use of the store,
 * and the new one for `cosync keystore passphrase` — each a file only its owner can read, or a
 * variable, never the command line (passphrase-source.ts has the rules).
 */
import { CosyncError } from '../../app/result.js';
import { passphraseFromVariables, type PassphraseVariables } from './passphrase-source.js';

const CURRENT_PASSPHRASE: PassphraseVariables = { file: 'COSYNC_KEYSTORE_PASSPHRASE_FILE', inline: 'COSYNC_KEYSTORE_PASSPHRASE', what: 'keystore passphrase' };
/** Where `cosync keystore passphrase` takes the new passphrase from (besides piped stdin). */
export const NEW_KEYSTORE_PASSPHRASE: PassphraseVariables = { file: 'COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE', inline: 'COSYNC_KEYSTORE_NEW_PASSPHRASE', what: 'new keystore passphrase' };

/** Reads the passphrase from COSYNC_KEYSTORE_PASSPHRASE_FILE or COSYNC_KEYSTORE_PASSPHRASE — never from argv, which other users can see. */
export async function passphraseFromEnvironment(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Promise<string> {
  const passphrase = await passphraseFromVariables(CURRENT_PASSPHRASE, env, platform);
  if (passphrase === undefined) {
    throw new CosyncError(
      'keychain-unavailable',
      'the file keystore needs its passphrase: put it in a file only you can read (chmod 600) and set COSYNC_KEYSTORE_PASSPHRASE_FILE to its path, or set COSYNC_KEYSTORE_PASSPHRASE (it is never taken as a command-line argument: other users can see those)',
    );
  }
  return passphrase;
}

/**
 * Reads the passphrase for `changePassphrase` from COSYNC_KEYSTORE_NEW_PASSPHRASE_FILE or
 * COSYNC_KEYSTORE_NEW_PASSPHRASE, with the same checks as the current one; undefined when
 * neither is set.
 */
export function newPassphraseFromEnvironment(env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Promise<string | undefined> {
  return passphraseFromVariables(NEW_KEYSTORE_PASSPHRASE, env, platform);
}
