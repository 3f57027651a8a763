/**
 * The `cosync` command line: keys, credentials, backup and restore, folder sync, headless.
 *
 * Every command is defined once in commands.ts; this dispatcher has argv's words walked to it
 * (argument-route.ts, which takes global options wherever they come), answers `--help` at any
 * level, parses the command's options with its table, runs it and turns its failure into one
 * line on stderr and an exit code.
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
import { routeArguments } from './argument-route.js';
import { helpHint, isParseArgsError, missingSubcommand, oneLine, parseCommandArguments } from './command-spec.js';
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

function describeUnexpected(error: unknown): string {
  if (isParseArgsError(error)) return `${oneLine((error as Error).message)}; ${helpHint('')}`;
  return `unexpected error: ${(error as Error).message ?? String(error)}`;
}
