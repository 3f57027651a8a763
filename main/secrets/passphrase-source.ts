/**
 * Where cosync takes a passphrase from: a file only its owner can read (named by one variable),
 * the text of another variable, or the first line of a piped stdin — never the command line,
 * where other users can read it (ps, /proc/PID/cmdline). Shared by the file keystore, `cosync
 * keystore passphrase` and sealed recovery kits.
 */
import { readFile, stat } from 'node:fs/promises';
import { CosyncError } from '../../app/result.js';

/** The two variables one passphrase may come from. */
export interface PassphraseVariables {
  /** Names a file (mode 0600) holding the passphrase. */
  readonly file: string;
  /** Holds the passphrase itself. */
  readonly inline: string;
  /** What the passphrase is, for messages ("new keystore passphrase"). */
  readonly what: string;
}

/** A stdin as the session has it. */
export type PassphraseStdin = NodeJS.ReadableStream & { readonly isTTY?: boolean | undefined };

/** The passphrase from `variables`; undefined when neither is set. */
export async function passphraseFromVariables(variables: PassphraseVariables, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): Promise<string | undefined> {
  const file = env[variables.file] ?? '';
  const inline = env[variables.inline] ?? '';
  if (file !== '' && inline !== '') {
    throw new CosyncError('usage', `both ${variables.file} and ${variables.inline} are set; set only one`);
  }
  if (inline !== '') return inline;
  if (file === '') return undefined;
  let info;
  try {
    info = await stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CosyncError('keychain-unavailable', `cannot read the ${variables.what} file ${file} (${variables.file}): ${code === 'ENOENT' ? 'it does not exist' : (code ?? (error as Error).message)}`);
  }
  if (!info.isFile()) throw new CosyncError('keychain-unavailable', `the ${variables.what} file ${file} (${variables.file}) is not a file`);
  // As ssh does with private keys: a passphrase others can read protects nothing.
  if (platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new CosyncError(
      'keychain-unavailable',
      `the ${variables.what} file ${file} can be read by other users (mode ${(info.mode & 0o777).toString(8).padStart(3, '0')}); run \`chmod 600 ${file}\``,
    );
  }
  const text = await readFile(file, 'utf8');
  // Editors end files with a newline; it is not part of the passphrase.
  return text.replace(/\r?\n$/, '');
}

/** How to tell the user that no passphrase came: "no NOUN given: SOURCES HINT". */
export interface MissingPassphrase {
  /** "new passphrase", "kit passphrase". */
  readonly noun: string;
  /** Where to put one. */
  readonly sources: string;
  /** Said at a terminal only, e.g. the minimum length. */
  readonly hint?: string;
}

/** The passphrase from `variables`, else the first line of a piped stdin; a terminal is refused (cosync does not prompt). */
export async function passphraseFromVariablesOrStdin(variables: PassphraseVariables, io: { readonly env: NodeJS.ProcessEnv; readonly stdin: PassphraseStdin }, missing: MissingPassphrase): Promise<string> {
  const fromVariables = await passphraseFromVariables(variables, io.env);
  if (fromVariables !== undefined) return fromVariables;
  if (io.stdin.isTTY === true) throw new CosyncError('usage', `no ${missing.noun} given: ${missing.sources}${missing.hint ?? ''}`);
  const line = await firstLine(io.stdin);
  if (line === '') throw new CosyncError('usage', `no ${missing.noun} on stdin (its first line is empty): ${missing.sources}`);
  return line;
}

/** Reads up to the first newline (without it, or a CR before it); a pipe left open after it does not hold the command up. */
async function firstLine(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    chunks.push(bytes);
    if (bytes.includes(0x0a)) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const end = text.indexOf('\n');
  return (end === -1 ? text : text.slice(0, end)).replace(/\r$/, '');
}
