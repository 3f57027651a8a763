/**
 * Temporary credentials from a command, for companies that hand out only temporary keys.
 *
 * The command follows AWS CLI's `credential_process` contract ("Source credentials with an
 * external process", https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-sourcing-external.html):
 * it exits 0 and prints `{"Version": 1, "AccessKeyId", "SecretAccessKey", "SessionToken",
 * "Expiration"}` (Expiration in RFC 3339) on stdout. The command line is not a secret; what it
 * prints is, and is kept only in memory (never logged, never written to disk).
 */
import { exec } from 'node:child_process';
import { CosyncError } from '../../app/result.js';
import type { RenewableCredentials, SigningCredentials } from './secret-values.js';

/**
 * Credentials are fetched again this long before they expire, so a request signed now is not
 * refused on the way (the AWS SDKs refresh temporary credentials 5 minutes ahead too).
 */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

/** How long the command may run before it counts as failed. */
const PROCESS_TIMEOUT_MS = 60_000;

/** Checks what a credential process printed; `command` names it in messages. */
export function parseCredentialProcessOutput(stdout: string, command: string, now: Date): SigningCredentials {
  const fail = (what: string): never => {
    throw new CosyncError('credentials-missing', `the credential process \`${command}\` ${what}; it must print {"Version": 1, "AccessKeyId": …, "SecretAccessKey": …, "SessionToken": …, "Expiration": "RFC 3339 time"}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch {
    return fail(stdout.trim() === '' ? 'printed nothing' : 'printed something that is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('printed JSON that is not an object');
  const fields = parsed as Record<string, unknown>;
  if (fields.Version !== 1) return fail(`printed Version ${JSON.stringify(fields.Version)}, not 1`);
  const text = (name: string, required: boolean): string | undefined => {
    const value = fields[name];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string' || value === '') return fail(`printed no ${name}`);
    return value;
  };
  const accessKeyId = text('AccessKeyId', true) as string;
  const secretAccessKey = text('SecretAccessKey', true) as string;
  const sessionToken = text('SessionToken', false);
  const expirationText = text('Expiration', false);
  let expiration: Date | undefined;
  if (expirationText !== undefined) {
    expiration = new Date(expirationText);
    if (Number.isNaN(expiration.getTime())) return fail(`printed an Expiration that is not an RFC 3339 time (${JSON.stringify(expirationText)})`);
    if (expiration.getTime() <= now.getTime()) return fail(`printed credentials that expired at ${expiration.toISOString()} (now ${now.toISOString()})`);
  }
  return { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }), ...(expiration === undefined ? {} : { expiration }) };
}

/** Runs the command through the system shell and checks what it printed. */
export function runCredentialProcess(command: string, env: NodeJS.ProcessEnv): Promise<SigningCredentials> {
  return new Promise((resolve, reject) => {
    exec(command, { env, timeout: PROCESS_TIMEOUT_MS, maxBuffer: 1 << 20, windowsHide: true }, (error, stdout, stderr) => {
      if (error !== null) {
        // stderr is the command's own diagnostics (AWS asks credential tools to keep secrets off it).
        const detail = stderr.trim().slice(-500);
        const why = error.killed === true ? `did not finish within ${PROCESS_TIMEOUT_MS / 1000} s` : `failed (exit code ${String(error.code ?? 'unknown')})`;
        reject(new CosyncError('credentials-missing', `the credential process \`${command}\` ${why}${detail === '' ? '' : `: ${detail}`}; fix it or set it again with \`cosync credentials set --process\``));
        return;
      }
      try {
        resolve(parseCredentialProcessOutput(stdout, command, new Date()));
      } catch (parseError) {
        reject(parseError as Error);
      }
    });
  });
}

/** The credentials a process hands out, run again shortly before they expire or when the store refused them. */
export class CredentialProcessSource implements RenewableCredentials {
  #current: Promise<SigningCredentials> | undefined;

  constructor(
    readonly command: string,
    private readonly run: () => Promise<SigningCredentials>,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Valid credentials: the ones held, unless they expire within REFRESH_BEFORE_EXPIRY_MS. */
  async current(): Promise<SigningCredentials> {
    const held = this.#current;
    if (held !== undefined) {
      const credentials = await held.catch(() => undefined);
      if (credentials !== undefined && (credentials.expiration === undefined || credentials.expiration.getTime() - this.clock() > REFRESH_BEFORE_EXPIRY_MS)) return credentials;
      // A concurrent caller may already have started the refresh.
      if (this.#current !== held) return this.current();
    }
    return this.refresh();
  }

  async replace(rejected: SigningCredentials): Promise<SigningCredentials> {
    const held = await this.#current?.catch(() => undefined);
    // Another request that was refused at the same time may already have renewed them.
    if (held !== undefined && held !== rejected) return held;
    return this.refresh();
  }

  /** Runs the process again. */
  private refresh(): Promise<SigningCredentials> {
    const run = this.run();
    this.#current = run;
    run.catch(() => {
      if (this.#current === run) this.#current = undefined;
    });
    return run;
  }
}
