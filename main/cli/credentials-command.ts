/**
 * `cosync credentials set|show|delete`: the store's SecretId/SecretKey (or S3 access keys) in
 * the keychain, under an account name. Options are defined in commands.ts.
 */
import { CLI_FORMAT } from '../../app/format.js';
import { CosyncError } from '../../app/result.js';
import { runCredentialProcess } from '../secrets/credential-process.js';
import { DEFAULT_ACCOUNT } from '../secrets/keychain.js';
import { deleteStoreCredentials, setStoreCredentials } from '../daemon/store-credentials.js';
import type { Session } from '../engine/session.js';
import { requireOption } from './target-flags.js';
import type { ParsedArguments } from './command-spec.js';
import type { CREDENTIALS_ACCOUNT_OPTIONS, CREDENTIALS_SET_OPTIONS } from './commands.js';
import { readAllStdin } from './key-commands.js';

/** `cosync credentials set --secret-id ID [--account NAME]`; the secret key from stdin or --secret-key-env. */
export async function credentialsSet({ values, positionals }: ParsedArguments<typeof CREDENTIALS_SET_OPTIONS>, session: Session): Promise<number> {
  const { io } = session;
  refusePositionals(positionals);
  const account = values.account ?? DEFAULT_ACCOUNT;
  if (values.process !== undefined) return credentialProcessSet(values, account, session);
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
  const stored = await setStoreCredentials(session, { secretId, secretKey, sessionToken, account });
  io.stdout.write(`credentials for account ${account} stored in the OS keychain (${stored.secretId})\n`);
  return 0;
}

/** `cosync credentials set --process COMMAND`: stores the command after one run of it succeeded. */
async function credentialProcessSet(values: ParsedArguments<typeof CREDENTIALS_SET_OPTIONS>['values'], account: string, session: Session): Promise<number> {
  const command = values.process?.trim() ?? '';
  if (command === '') throw new CosyncError('usage', '--process needs a command, e.g. --process \'/opt/bin/cos-sts --role backup\'');
  const conflicting = (['secret-id', 'secret-key-env', 'session-token-env'] as const).find((name) => values[name] !== undefined);
  if (conflicting !== undefined) throw new CosyncError('usage', `--process and --${conflicting} do not go together: the command hands out the keys`);
  // A command that cannot hand out credentials now would fail every later run: refuse to store it.
  const first = await runCredentialProcess(command, session.io.env);
  await session.keychain.setCredentialProcess(account, command);
  session.logger.log('info', 'credentials-set', { account, process: command });
  const until = first.expiration === undefined ? '' : `, the first valid until ${CLI_FORMAT.dateTime(first.expiration)}`;
  session.io.stdout.write(`credentials for account ${account}: temporary, from \`${command}\` (run again before they expire${until})\n`);
  return 0;
}

/** `cosync credentials show [--account NAME]`. */
export async function credentialsShow({ values, positionals }: ParsedArguments<typeof CREDENTIALS_ACCOUNT_OPTIONS>, session: Session): Promise<number> {
  refusePositionals(positionals);
  const account = values.account ?? DEFAULT_ACCOUNT;
  const credentials = await session.keychain.getCredentials(account);
  if (credentials === undefined) throw new CosyncError('credentials-missing', `no credentials stored for account ${account}`);
  session.io.stdout.write(
    credentials.renewable === undefined
      ? `account ${account}: secret id ${credentials.abbreviatedId} (secret key stored, not shown)\n`
      : `account ${account}: temporary credentials from \`${credentials.renewable.command}\`\n`,
  );
  return 0;
}

/** `cosync credentials delete [--account NAME]`. */
export async function credentialsDelete({ values, positionals }: ParsedArguments<typeof CREDENTIALS_ACCOUNT_OPTIONS>, session: Session): Promise<number> {
  refusePositionals(positionals);
  const account = values.account ?? DEFAULT_ACCOUNT;
  await deleteStoreCredentials(session, account);
  session.io.stdout.write(`credentials for account ${account} deleted\n`);
  return 0;
}

function refusePositionals(positionals: ReadonlyArray<string>): void {
  if (positionals.length > 0) throw new CosyncError('usage', `unexpected argument ${JSON.stringify(positionals[0])}`);
}
