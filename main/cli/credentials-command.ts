/**
 * `cosync credentials set|show|delete`: the store's SecretId/SecretKey (or S3 access keys) in
 * the keychain, under an account name. Options are defined in commands.ts.
 */
import { CosyncError } from '../../app/result.js';
import { DEFAULT_ACCOUNT } from '../secrets/keychain.js';
import { StoreCredentials } from '../secrets/secret-values.js';
import { requireOption, type Session } from '../session/session.js';
import type { ParsedArguments } from './command-spec.js';
import type { CREDENTIALS_ACCOUNT_OPTIONS, CREDENTIALS_SET_OPTIONS } from './commands.js';
import { readAllStdin } from './key-commands.js';

/** `cosync credentials set --secret-id ID [--account NAME]`; the secret key from stdin or --secret-key-env. */
export async function credentialsSet({ values, positionals }: ParsedArguments<typeof CREDENTIALS_SET_OPTIONS>, session: Session): Promise<number> {
  const { io } = session;
  refusePositionals(positionals);
  const account = values.account ?? DEFAULT_ACCOUNT;
  const secretId = requireOption(values['secret-id'], 'secret-id ID').trim();
  let secretKey: string;
  if (values['secret-key-env'] !== undefined) {
    secretKey = io.env[values['secret-key-env']] ?? '';
    if (secretKey === '') throw new CosyncError('usage', `environment variable ${values['secret-key-env']} is empty or not set`);
  } else {
    if (io.stdin.isTTY === true) io.stderr.write('Secret key (input is read from stdin; end with Enter and Ctrl-D): ');
    secretKey = (await readAllStdin(io)).trim();
    if (secretKey === '') throw new CosyncError('usage', 'no secret key on stdin: pipe it in, e.g. `cosync credentials set --secret-id ID < keyfile`, or use --secret-key-env VAR');
  }
  const sessionToken = values['session-token-env'] === undefined ? undefined : io.env[values['session-token-env']];
  const credentials = new StoreCredentials(secretId, secretKey, sessionToken);
  await session.keychain.setCredentials(account, credentials);
  session.logger.log('info', 'credentials-set', { account, credentials });
  io.stdout.write(`credentials for account ${account} stored in the OS keychain (${credentials.abbreviatedId})\n`);
  return 0;
}

/** `cosync credentials show [--account NAME]`. */
export async function credentialsShow({ values, positionals }: ParsedArguments<typeof CREDENTIALS_ACCOUNT_OPTIONS>, session: Session): Promise<number> {
  refusePositionals(positionals);
  const account = values.account ?? DEFAULT_ACCOUNT;
  const credentials = await session.keychain.getCredentials(account);
  if (credentials === undefined) throw new CosyncError('credentials-missing', `no credentials stored for account ${account}`);
  session.io.stdout.write(`account ${account}: secret id ${credentials.abbreviatedId} (secret key stored, not shown)\n`);
  return 0;
}

/** `cosync credentials delete [--account NAME]`. */
export async function credentialsDelete({ values, positionals }: ParsedArguments<typeof CREDENTIALS_ACCOUNT_OPTIONS>, session: Session): Promise<number> {
  refusePositionals(positionals);
  const account = values.account ?? DEFAULT_ACCOUNT;
  if (!(await session.keychain.deleteCredentials(account))) throw new CosyncError('credentials-missing', `no credentials stored for account ${account}`);
  session.io.stdout.write(`credentials for account ${account} deleted\n`);
  return 0;
}

function refusePositionals(positionals: ReadonlyArray<string>): void {
  if (positionals.length > 0) throw new CosyncError('usage', `unexpected argument ${JSON.stringify(positionals[0])}`);
}
