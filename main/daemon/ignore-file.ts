/** A sync folder's own ignore rules: the `.cosyncignore` at its root, read and written for the window. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BUILT_IN_IGNORES, parseIgnoreRules } from '../../app/ignore-rules.js';
import { CosyncError } from '../../app/result.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { Logger } from '../log/logger.js';

/** A folder's own ignore rules, at its root. */
const IGNORE_FILE = '.cosyncignore';

/** The folder's rules as written (empty without a file), and the rules built in. */
export async function readIgnoreFile(localPath: string): Promise<{ text: string; builtIn: ReadonlyArray<string> }> {
  const file = join(localPath, IGNORE_FILE);
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw new CosyncError('path-unreadable', `cannot read ${file}: ${error.code ?? error.message}`);
  });
  return { text, builtIn: BUILT_IN_IGNORES };
}

/**
 * Writes a folder's .cosyncignore (atomically: the watcher never sees half a file); the watcher
 * then rescans the folder under the new rules. Rules that cannot be read are refused with their
 * line numbers, and nothing is written.
 */
export async function writeIgnoreFile(folderId: string, localPath: string, text: string, logger: Logger): Promise<void> {
  const { problems } = parseIgnoreRules(text, IGNORE_FILE);
  if (problems.length > 0) throw new CosyncError('usage', `the rules were not saved: ${problems.join('; ')}`);
  await writeFileAtomic(join(localPath, IGNORE_FILE), text.endsWith('\n') || text === '' ? text : `${text}\n`);
  logger.log('info', 'ignore-rules-saved', { folder: folderId, rules: text.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('#')).length });
}
