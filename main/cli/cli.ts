/**
 * The `cosync` command line: keys, credentials, backup and restore, folder sync, headless.
 *
 * Every command is defined once in commands.ts; this dispatcher walks the words of argv to it,
 * taking global options wherever they come (before the command, as `git -C`, `rclone --config`
 * or `aws --profile` do, or after it), answers `--help` at any level, parses the command's
 * options with its table and runs it.
 *
 * Every command validates all its input before touching the network or the disk, prints errors
 * as one line on stderr (`cosync: …`), and exits with a code of exit-codes.ts (2 for usage).
 *
 * Commands load their modules when they run: a backup of many small files is CPU-bound on
 * machines shared with the server, and loading the sync engine, restore and key administration
 * it never uses cost about a tenth of a CPU-second per run (bench:upload).
 */
import { CosyncError } from '../../app/result.js';
import { cosyncVersion } from '../config/version.js';
import { Session, type SessionDependencies } from '../engine/session.js';
import { applyGlobalOptions, GLOBAL_OPTIONS } from './cli-options.js';
import { childEntry, closestWord, helpHint, isParseArgsError, missingSubcommand, oneLine, optionLabel, parseCommandArguments, type CommandEntry, type OptionSpec } from './command-spec.js';
import { TOP_LEVEL, TOP_LEVEL_OPTIONS } from './commands.js';
import { exitCodeForError, EXIT_CODES } from './exit-codes.js';

/** Runs one CLI invocation; resolves to the process exit code. */
export async function runCli(argv: ReadonlyArray<string>, dependencies: SessionDependencies): Promise<number> {
  const { io } = dependencies;
  const session = new Session(dependencies);
  try {
    const route = routeArguments(argv);
    applyGlobalOptions(route.globals, session);
    const { entry } = route;
    if (entry === undefined || entry.kind === 'group') {
      if (route.version && entry === undefined) {
        io.stdout.write(`${await cosyncVersion()}\n`);
        return EXIT_CODES.ok.code;
      }
      const { entryHelp, topLevelHelp } = await import('./help-text.js');
      if (route.help) {
        io.stdout.write(entry === undefined ? topLevelHelp() : entryHelp(entry));
        return EXIT_CODES.ok.code;
      }
      if (entry !== undefined) throw missingSubcommand(entry);
      // `cosync` alone: the overview, but as a usage error, so a script that lost its arguments notices.
      io.stdout.write(topLevelHelp());
      return EXIT_CODES.usage.code;
    }
    const { parsed, help } = parseCommandArguments(entry, route.rest, GLOBAL_OPTIONS);
    if (help || route.help) {
      const { entryHelp } = await import('./help-text.js');
      io.stdout.write(entryHelp(entry));
      return EXIT_CODES.ok.code;
    }
    applyGlobalOptions(parsed.values, session);
    return await entry.run(parsed, session);
  } catch (error) {
    const known = error instanceof CosyncError ? error : undefined;
    const message = known?.message ?? describeUnexpected(error);
    io.stderr.write(`cosync: ${message}\n`);
    session.openedLogger?.log('error', 'command-failed', { code: known?.code ?? 'internal', message });
    return isParseArgsError(error) ? EXIT_CODES.usage.code : exitCodeForError(known?.code ?? 'internal');
  } finally {
    session.close();
  }
}

/** Where argv leads: the command (or group) its words name, the global options met on the way, and the rest. */
interface Route {
  readonly entry: CommandEntry | undefined;
  readonly rest: ReadonlyArray<string>;
  readonly globals: { 'config-dir'?: string; keystore?: string };
  readonly help: boolean;
  readonly version: boolean;
}

/**
 * Walks argv's words down the command table. Before the command's last word only global options
 * (and --help, and at the very start --version) may come; the command's own options are parsed
 * with its table, which includes the global ones too.
 */
function routeArguments(argv: ReadonlyArray<string>): Route {
  const globals: { 'config-dir'?: string; keystore?: string } = {};
  let entry: CommandEntry | undefined;
  let help = false;
  let version = false;
  let index = 0;
  while (index < argv.length && entry?.kind !== 'command') {
    const word = argv[index] as string;
    index++;
    if (word === '--') break;
    if (!word.startsWith('-') || word === '-') {
      entry = childEntry(entry, word, TOP_LEVEL);
      continue;
    }
    const [flag, inline] = splitInlineValue(word);
    if (flag === '--help' || flag === '-h') {
      help = true;
      continue;
    }
    if (flag === '--version' && entry === undefined) {
      version = true;
      continue;
    }
    const name = flag.replace(/^--/, '');
    const spec: OptionSpec | undefined = flag.startsWith('--') && name in GLOBAL_OPTIONS ? GLOBAL_OPTIONS[name as keyof typeof GLOBAL_OPTIONS] : undefined;
    if (spec === undefined || spec.type !== 'string') throw unknownLeadingOption(word, entry);
    const value = inline ?? argv[index];
    if (inline === undefined) index++;
    if (value === undefined || (inline === undefined && value.startsWith('-'))) {
      throw new CosyncError('usage', `${flag} needs a value (${optionLabel(name, spec)}); ${helpHint('')}`);
    }
    globals[name as 'config-dir' | 'keystore'] = value;
  }
  return { entry, rest: argv.slice(index), globals, help, version };
}

/** `--config-dir=DIR` as `['--config-dir', 'DIR']`; `--config-dir` as `['--config-dir', undefined]`. */
function splitInlineValue(word: string): [string, string | undefined] {
  const equals = word.indexOf('=');
  return equals === -1 || !word.startsWith('--') ? [word, undefined] : [word.slice(0, equals), word.slice(equals + 1)];
}

/** An option before the command's name that is not a global one. */
function unknownLeadingOption(word: string, entry: CommandEntry | undefined): CosyncError {
  if (entry?.kind === 'group') {
    if (entry.misuse !== undefined) return missingSubcommand(entry);
    return new CosyncError('usage', `${word.replace(/=.*$/, '')} is not an option of \`cosync ${entry.name}\` itself: name one of its commands first; ${helpHint(entry.name)}`);
  }
  const known = [...Object.keys(GLOBAL_OPTIONS), ...Object.keys(TOP_LEVEL_OPTIONS)].map((name) => `--${name}`);
  const closest = closestWord(word, known);
  return new CosyncError(
    'usage',
    `unknown global option ${word.replace(/=.*$/, '')}${closest === undefined ? '' : ` (did you mean ${closest}?)`}; a command's own options come after its name; ${helpHint('')}`,
  );
}

function describeUnexpected(error: unknown): string {
  if (isParseArgsError(error)) return `${oneLine((error as Error).message)}; ${helpHint('')}`;
  return `unexpected error: ${(error as Error).message ?? String(error)}`;
}
