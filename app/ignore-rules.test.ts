import { describe, expect, it } from 'vitest';
import { DEFAULT_IGNORE_RULES, parseIgnoreRules } from './ignore-rules.js';

describe('ignore rules (gitignore syntax)', () => {
  it.each<[string, string, boolean, boolean]>([
    // [rules, path, isDirectory, ignored]
    ['', '~$report.docx', false, true],
    ['', 'dir/~$report.docx', false, true],
    ['', '.~lock.a.odt#', false, true],
    ['', 'notes/x.swp', false, true],
    ['', 'deep/er/.DS_Store', false, true],
    ['', 'a/Thumbs.db', false, true],
    ['', '.photo.jpg.0123456789ab.cosync-partial', false, true],
    ['', '.cosync-trash', true, true],
    ['', '.cosync-trash/x', false, true],
    ['', 'sub/.cosync-trash', true, false],
    ['', '.cosyncignore', false, false],
    ['', 'report.docx', false, false],
    ['', 'tmp.tmp', false, false],
    ['*.log', 'a.log', false, true],
    ['*.log', 'deep/b/a.log', false, true],
    ['*.log', 'a.log.txt', false, false],
    ['*.log\n!keep.log', 'keep.log', false, false],
    ['*.log\n!keep.log', 'x/keep.log', false, false],
    ['!keep.log\n*.log', 'keep.log', false, true],
    ['build/', 'build', true, true],
    ['build/', 'build', false, false],
    ['build/', 'build/out.o', false, true],
    ['build/', 'src/build/out.o', false, true],
    ['/build', 'build', true, true],
    ['/build', 'src/build', true, false],
    ['doc/frotz', 'doc/frotz', false, true],
    ['doc/frotz', 'a/doc/frotz', false, false],
    ['**/foo', 'foo', false, true],
    ['**/foo', 'a/b/foo', false, true],
    ['**/foo/bar', 'x/foo/bar', false, true],
    ['abc/**', 'abc/x/y', false, true],
    ['abc/**', 'abc', true, false],
    ['a/**/b', 'a/b', false, true],
    ['a/**/b', 'a/x/y/b', false, true],
    ['a/**/b', 'a/xb', false, false],
    ['file?.txt', 'file1.txt', false, true],
    ['file?.txt', 'file10.txt', false, false],
    ['file[0-9].txt', 'file7.txt', false, true],
    ['file[!0-9].txt', 'file7.txt', false, false],
    ['file[!0-9].txt', 'filex.txt', false, true],
    ['\\#hash', '#hash', false, true],
    ['#comment', '#comment', false, false],
    ['\\!bang', '!bang', false, true],
    ['trailing   ', 'trailing', false, true],
    ['a[bc', 'a[bc', false, true],
    ['secret/\n!secret/keep.txt', 'secret/keep.txt', false, true],
    ['*.tmp\n', 'Café/été.tmp', false, true],
    ['Café/', 'Café/x', false, true],
    ['*.LOG', 'a.log', false, false],
    ['!Thumbs.db', 'Thumbs.db', false, false],
    ['*', 'anything/at/all', false, true],
  ])('%j: %s (dir %s) → %s', (rules, path, isDirectory, ignored) => {
    expect(parseIgnoreRules(rules).isIgnored(path, isDirectory)).toBe(ignored);
  });

  it('built-ins alone', () => {
    expect(DEFAULT_IGNORE_RULES.isIgnored('Thumbs.db', false)).toBe(true);
    expect(DEFAULT_IGNORE_RULES.isIgnored('photo.jpg', false)).toBe(false);
  });

  it('never throws on odd user text; the sane rules around it still work', () => {
    const rules = parseIgnoreRules('[\n\\\n!\n/\n[z-a]\nnode_modules/\n*.o\n');
    expect(rules.isIgnored('src/node_modules/x/y.js', false)).toBe(true);
    expect(rules.isIgnored('main.o', false)).toBe(true);
    expect(rules.isIgnored('main.c', false)).toBe(false);
  });
});
