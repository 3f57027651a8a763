/**
 * Walks argv's words down the command table (commands.ts) to the command or group they name,
 * taking global options wherever they come: before the command, as `git -C`, `rclone --config`
 * or `aws --profile` do, or after it.
 */
import { CosyncError } from '../../app/result.js';
import { GLOBAL_OPTIONS } from './cli-options.js';
import { childEntry, closestWord, helpHint, missingSubcommand, optionLabel, type CommandEntry, type OptionSpec } from './command-spec.js';
import { TOP_LEVEL, TOP_LEVEL_OPTIONS } from './commands.js';

/** Where argv leads: the command (or group) its words name, the global options met on the way, and the rest. */
export interface Route {
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
export function routeArguments(argv: ReadonlyArray<string>): Route {
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
