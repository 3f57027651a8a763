import { describe, expect, it } from 'vitest';
import { conflictCopyPath, pathStamp, TRASH_PREFIX, type DeletePolicy, type LocalFile, type RemoteFile, type SyncAction, type SyncedFile } from './sync-model.js';
import { seededRandom } from '../test/support/random.js';
import { planSync, pathsOf } from './sync-planner.js';

const STAMP = '2026-11-26T00-00-00Z';

function local(path: string, sizeBytes: number, mtimeMs: number, fileId: string | null, hash: string | null): LocalFile {
  return { path, sizeBytes, mtimeMs, fileId, hash };
}
function remote(path: string, sizeBytes: number, etag: string | null): RemoteFile {
  return { path, sizeBytes, etag };
}
function synced(path: string, sizeBytes: number, mtimeMs: number, fileId: string | null, hash: string | null, etag: string | null): SyncedFile {
  return { path, sizeBytes, mtimeMs, fileId, hash, etag, keyFingerprint: null };
}
function trees(l: LocalFile[], r: RemoteFile[], s: SyncedFile[]) {
  return {
    local: new Map(l.map((f) => [f.path, f])),
    remote: new Map(r.map((f) => [f.path, f])),
    synced: new Map(s.map((f) => [f.path, f])),
  };
}
function plan(t: ReturnType<typeof trees>, policy: DeletePolicy = 'keep', isIgnored?: (path: string) => boolean): SyncAction[] {
  return planSync(t, { policy, trashStamp: STAMP, ...(isIgnored === undefined ? {} : { isIgnored }) }).actions;
}

describe('planSync: one case at a time', () => {
  const a = local('a.txt', 5, 100, '1:10', 'h1');
  const aSynced = synced('a.txt', 5, 100, '1:10', 'h1', 'e1');
  const aRemote = remote('a.txt', 5, 'e1');

  it('uploads a new file', () => {
    expect(plan(trees([a], [], []))).toEqual([{ kind: 'upload', path: 'a.txt', sizeBytes: 5, reason: 'new', preserveRemote: false }]);
  });

  it('does nothing when all three trees agree', () => {
    expect(plan(trees([a], [aRemote], [aSynced]))).toEqual([]);
  });

  it('uploads a modified file (size changed)', () => {
    expect(plan(trees([local('a.txt', 6, 200, '1:10', 'h2')], [aRemote], [aSynced]))).toEqual([
      { kind: 'upload', path: 'a.txt', sizeBytes: 6, reason: 'modified', preserveRemote: false },
    ]);
  });

  it('uploads a modified file (same size, new mtime, new hash)', () => {
    expect(plan(trees([local('a.txt', 5, 200, '1:10', 'h2')], [aRemote], [aSynced]))[0]).toMatchObject({ kind: 'upload', reason: 'modified' });
  });

  it('uploads when the mtime moved and the hash is unknown', () => {
    expect(plan(trees([local('a.txt', 5, 200, '1:10', null)], [aRemote], [aSynced]))[0]).toMatchObject({ kind: 'upload', reason: 'modified' });
  });

  it('only refreshes the journal for a touched file (new mtime, same hash)', () => {
    expect(plan(trees([local('a.txt', 5, 200, '1:10', 'h1')], [aRemote], [aSynced]))).toEqual([{ kind: 'refresh', path: 'a.txt' }]);
  });

  it('refreshes when an editor saved through a new inode with the same content', () => {
    expect(plan(trees([local('a.txt', 5, 100, '1:99', 'h1')], [aRemote], [aSynced]))).toEqual([{ kind: 'refresh', path: 'a.txt' }]);
  });

  it('uploads again when someone deleted the object', () => {
    expect(plan(trees([a], [], [aSynced]))).toEqual([{ kind: 'upload', path: 'a.txt', sizeBytes: 5, reason: 'remote-missing', preserveRemote: false }]);
  });

  it('preserves an object someone else changed, then uploads ours', () => {
    expect(plan(trees([a], [remote('a.txt', 5, 'e-other')], [aSynced]))).toEqual([
      { kind: 'upload', path: 'a.txt', sizeBytes: 5, reason: 'remote-changed', preserveRemote: true },
    ]);
  });

  it('preserves their change when both sides changed', () => {
    expect(plan(trees([local('a.txt', 9, 300, '1:10', 'h3')], [remote('a.txt', 7, 'e-other')], [aSynced]))[0]).toMatchObject({
      kind: 'upload',
      reason: 'modified',
      preserveRemote: true,
    });
  });

  it('adopts a new local file over an unsynced object of the same size (checked by content later)', () => {
    expect(plan(trees([a], [remote('a.txt', 5, 'x')], []))).toEqual([{ kind: 'adopt', path: 'a.txt', sizeBytes: 5 }]);
  });

  it('preserves and uploads over an unsynced object of another size', () => {
    expect(plan(trees([a], [remote('a.txt', 3, 'x')], []))).toEqual([{ kind: 'upload', path: 'a.txt', sizeBytes: 5, reason: 'new', preserveRemote: true }]);
  });

  it.each<[DeletePolicy, SyncAction]>([
    ['keep', { kind: 'forget', path: 'a.txt', reason: 'deleted locally; the object is kept (policy keep)' }],
    ['mirror', { kind: 'delete-remote', path: 'a.txt' }],
    ['trash', { kind: 'trash-remote', path: 'a.txt', trashPath: `${TRASH_PREFIX}${STAMP}/a.txt` }],
  ])('a local delete under policy %s', (policy, expected) => {
    expect(plan(trees([], [aRemote], [aSynced]), policy)).toEqual([expected]);
  });

  it.each<DeletePolicy>(['mirror', 'trash'])('never deletes an object someone else changed (policy %s)', (policy) => {
    expect(plan(trees([], [remote('a.txt', 5, 'e-other')], [aSynced]), policy)).toEqual([
      { kind: 'forget', path: 'a.txt', reason: 'deleted locally, but the object was changed or removed by someone else; left as it is' },
    ]);
  });

  it('forgets a file deleted on both sides', () => {
    expect(plan(trees([], [], [aSynced]), 'mirror')[0]).toMatchObject({ kind: 'forget', path: 'a.txt' });
  });

  it.each<[DeletePolicy, boolean]>([
    ['keep', false],
    ['mirror', true],
    ['trash', true],
  ])('a rename (same inode, size, mtime) is a move (policy %s, delete source %s)', (policy, deleteSource) => {
    const renamed = local('b.txt', 5, 100, '1:10', null);
    expect(plan(trees([renamed], [aRemote], [aSynced]), policy)).toEqual([{ kind: 'move', from: 'a.txt', to: 'b.txt', sizeBytes: 5, deleteSource }]);
  });

  it('a case-only rename is a move', () => {
    const renamed = local('A.TXT', 5, 100, '1:10', 'h1');
    expect(plan(trees([renamed], [aRemote], [aSynced]), 'mirror')).toEqual([{ kind: 'move', from: 'a.txt', to: 'A.TXT', sizeBytes: 5, deleteSource: true }]);
  });

  it('a move across devices (new inode, same content) is found by hash', () => {
    const moved = local('x/a.txt', 5, 555, '2:77', 'h1');
    expect(plan(trees([moved], [aRemote], [aSynced]), 'mirror')).toEqual([{ kind: 'move', from: 'a.txt', to: 'x/a.txt', sizeBytes: 5, deleteSource: true }]);
  });

  it('a renamed and modified file is not a move: upload the new one, dispose of the old', () => {
    const renamed = local('b.txt', 8, 900, '1:10', 'h9');
    expect(plan(trees([renamed], [aRemote], [aSynced]), 'mirror')).toEqual([
      { kind: 'upload', path: 'b.txt', sizeBytes: 8, reason: 'new', preserveRemote: false },
      { kind: 'delete-remote', path: 'a.txt' },
    ]);
  });

  it('no move from an object someone else changed: upload instead', () => {
    const renamed = local('b.txt', 5, 100, '1:10', 'h1');
    expect(plan(trees([renamed], [remote('a.txt', 5, 'e-other')], [aSynced]), 'mirror')).toEqual([
      { kind: 'upload', path: 'b.txt', sizeBytes: 5, reason: 'new', preserveRemote: false },
      { kind: 'forget', path: 'a.txt', reason: 'deleted locally, but the object was changed or removed by someone else; left as it is' },
    ]);
  });

  it('one source moves to one destination only; a second copy is uploaded', () => {
    const first = local('b.txt', 5, 100, '1:10', 'h1');
    const copy = local('c.txt', 5, 400, '1:11', 'h1');
    expect(plan(trees([first, copy], [aRemote], [aSynced]), 'mirror')).toEqual([
      { kind: 'move', from: 'a.txt', to: 'b.txt', sizeBytes: 5, deleteSource: true },
      { kind: 'upload', path: 'c.txt', sizeBytes: 5, reason: 'new', preserveRemote: false },
    ]);
  });

  it('a directory rename moves every file', () => {
    const files = ['one', 'two', 'three'].map((name, index) => ({
      before: synced(`old/${name}`, 10 + index, 100, `1:${index}`, `h${index}`, `e${index}`),
      after: local(`new/${name}`, 10 + index, 100, `1:${index}`, null),
    }));
    const actions = plan(
      trees(
        files.map((f) => f.after),
        files.map((f) => remote(f.before.path, f.before.sizeBytes, f.before.etag)),
        files.map((f) => f.before),
      ),
      'trash',
    );
    expect(actions).toHaveLength(3);
    for (const action of actions) expect(action).toMatchObject({ kind: 'move', deleteSource: true });
    expect(actions.map((action) => (action.kind === 'move' ? `${action.from}>${action.to}` : ''))).toEqual(['old/one>new/one', 'old/three>new/three', 'old/two>new/two']);
  });

  it('leaves objects it never synced alone and counts them', () => {
    const result = planSync(trees([], [remote('theirs.bin', 3, 'x')], []), { policy: 'mirror', trashStamp: STAMP });
    expect(result).toEqual({ actions: [], remoteOnly: 1 });
  });

  it('ignores the trash prefix on both sides', () => {
    expect(plan(trees([local(`${TRASH_PREFIX}x`, 1, 1, null, null)], [remote(`${TRASH_PREFIX}y`, 1, 'e')], []), 'mirror')).toEqual([]);
  });

  it('forgets a synced file that is now ignored, keeping its object whatever the policy', () => {
    const ignored = (path: string) => path.endsWith('.log');
    const log = synced('x.log', 1, 1, null, null, 'e');
    expect(plan(trees([], [remote('x.log', 1, 'e')], [log]), 'mirror', ignored)).toEqual([{ kind: 'forget', path: 'x.log', reason: 'now ignored; the object is kept' }]);
    expect(plan(trees([local('x.log', 2, 2, null, null)], [remote('x.log', 1, 'e')], [log]), 'mirror', ignored)).toEqual([
      { kind: 'forget', path: 'x.log', reason: 'now ignored; the object is kept' },
    ]);
  });

  it('paths of an action', () => {
    expect(pathsOf({ kind: 'move', from: 'a', to: 'b', sizeBytes: 1, deleteSource: true })).toEqual(['a', 'b']);
    expect(pathsOf({ kind: 'trash-remote', path: 'a', trashPath: 't/a' })).toEqual(['a', 't/a']);
  });

  it('conflict copies keep the extension; stamps are key- and file-name-safe', () => {
    expect(conflictCopyPath('dir/report.final.pdf', STAMP)).toBe(`dir/report.final.cosync-conflict-${STAMP}.pdf`);
    expect(conflictCopyPath('Makefile', STAMP)).toBe(`Makefile.cosync-conflict-${STAMP}`);
    expect(conflictCopyPath('.bashrc', STAMP)).toBe(`.bashrc.cosync-conflict-${STAMP}`);
    expect(pathStamp(Date.UTC(2026, 10, 26, 21, 50, 27, 123))).toBe('2026-11-26T21-50-27Z');
  });
});

// ── property tests: random histories converge ───────────────────────────────────────────

interface DiskFile {
  content: string;
  id: number;
  mtime: number;
}
interface StoredObject {
  content: string;
  etag: string;
  byOthers: boolean;
}

/** A folder, a bucket and a journal, changed by random operations and by executing plans. */
class World {
  readonly disk = new Map<string, DiskFile>();
  readonly bucket = new Map<string, StoredObject>();
  readonly synced = new Map<string, SyncedFile>();
  /** Content other people wrote that they did not overwrite or delete themselves: must never disappear. */
  readonly othersContent = new Set<string>();
  #clock = 1;
  #nextId = 1;
  #nextEtag = 1;

  constructor(readonly rng: () => number, readonly policy: DeletePolicy) {}

  pick<T>(items: T[]): T | undefined {
    return items.length === 0 ? undefined : items[Math.floor(this.rng() * items.length)];
  }

  randomPath(): string {
    const directory = this.pick(['', 'd1/', 'd2/', 'd1/sub/', 'Docs/'])!;
    return `${directory}${this.pick(['a', 'b', 'c', 'A', 'e.txt', 'f.txt'])!}${Math.floor(this.rng() * 4)}`;
  }

  /** One random change to the folder, or (less often) to the bucket by someone else. */
  mutate(): void {
    const paths = [...this.disk.keys()];
    const roll = this.rng();
    const now = ++this.#clock;
    if (roll < 0.25 || paths.length === 0) {
      const path = this.randomPath();
      if (!this.disk.has(path) && !this.isUnderFile(path)) this.disk.set(path, { content: `c${now}`, id: this.#nextId++, mtime: now });
    } else if (roll < 0.4) {
      const file = this.disk.get(this.pick(paths)!)!;
      file.content = `c${now}`;
      file.mtime = now;
    } else if (roll < 0.45) {
      this.disk.get(this.pick(paths)!)!.mtime = now; // touch
    } else if (roll < 0.6) {
      const from = this.pick(paths)!;
      const to = this.rng() < 0.2 ? from.toUpperCase() : this.randomPath();
      if (!this.disk.has(to) && !this.isUnderFile(to)) {
        this.disk.set(to, this.disk.get(from)!);
        this.disk.delete(from);
      }
    } else if (roll < 0.7) {
      // Rename a whole directory.
      const [from, to] = this.rng() < 0.5 ? ['d1/', 'd3/'] : ['d3/', 'd1/'];
      if (![...this.disk.keys()].some((path) => path.startsWith(to))) {
        for (const path of paths.filter((p) => p.startsWith(from))) {
          this.disk.set(to + path.slice(from.length), this.disk.get(path)!);
          this.disk.delete(path);
        }
      }
    } else if (roll < 0.8) {
      this.disk.delete(this.pick(paths)!);
    } else if (roll < 0.84) {
      for (const path of paths.filter((p) => p.startsWith('d2/'))) this.disk.delete(path);
    } else if (roll < 0.88) {
      // A copy: new identity, same content.
      const from = this.pick(paths)!;
      const to = this.randomPath();
      if (!this.disk.has(to) && !this.isUnderFile(to)) this.disk.set(to, { content: this.disk.get(from)!.content, id: this.#nextId++, mtime: now });
    } else if (roll < 0.94) {
      const key = this.pick([...this.bucket.keys()].filter((k) => !k.startsWith(TRASH_PREFIX)));
      if (key !== undefined) {
        const previous = this.bucket.get(key)!;
        if (previous.byOthers) this.othersContent.delete(previous.content);
        const content = `other${now}`;
        this.bucket.set(key, { content, etag: `E${this.#nextEtag++}`, byOthers: true });
        this.othersContent.add(content);
      }
    } else {
      const key = this.pick([...this.bucket.keys()]);
      if (key !== undefined) {
        const previous = this.bucket.get(key)!;
        if (previous.byOthers) this.othersContent.delete(previous.content);
        this.bucket.delete(key);
      }
    }
  }

  /** Paths are files only; "d1" as a file and "d1/x" cannot both exist, as on a real disk. */
  isUnderFile(path: string): boolean {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) if (this.disk.has(parts.slice(0, i).join('/'))) return true;
    return [...this.disk.keys()].some((other) => other.startsWith(`${path}/`));
  }

  /** The trees as the scanner and the lister would report them. */
  trees() {
    const localTree = new Map<string, LocalFile>();
    for (const [path, file] of this.disk) {
      localTree.set(path, { path, sizeBytes: file.content.length, mtimeMs: file.mtime, fileId: String(file.id), hash: file.content });
    }
    const remoteTree = new Map<string, RemoteFile>();
    for (const [path, object] of this.bucket) remoteTree.set(path, { path, sizeBytes: object.content.length, etag: object.etag });
    return { local: localTree, remote: remoteTree, synced: new Map(this.synced) };
  }

  plan(): SyncAction[] {
    return planSync(this.trees(), { policy: this.policy, trashStamp: `t${this.#clock}` }).actions;
  }

  write(path: string, content: string): StoredObject {
    const object = { content, etag: `E${this.#nextEtag++}`, byOthers: false };
    this.bucket.set(path, object);
    return object;
  }

  recordSynced(path: string, object: StoredObject): void {
    const file = this.disk.get(path)!;
    this.synced.set(path, { path, sizeBytes: file.content.length, mtimeMs: file.mtime, fileId: String(file.id), hash: file.content, etag: object.etag, keyFingerprint: null });
  }

  preserve(path: string): void {
    const theirs = this.bucket.get(path);
    if (theirs !== undefined) this.bucket.set(conflictCopyPath(path, `s${this.#clock}-${this.#nextEtag}`), { ...theirs });
  }

  /** Executes one action the way the engine does (each step atomic, as each server call is). */
  execute(action: SyncAction): void {
    switch (action.kind) {
      case 'upload': {
        if (action.preserveRemote) this.preserve(action.path);
        this.recordSynced(action.path, this.write(action.path, this.disk.get(action.path)!.content));
        return;
      }
      case 'adopt': {
        const object = this.bucket.get(action.path);
        const content = this.disk.get(action.path)!.content;
        if (object !== undefined && object.content === content) {
          this.recordSynced(action.path, object);
        } else {
          this.preserve(action.path);
          this.recordSynced(action.path, this.write(action.path, content));
        }
        return;
      }
      case 'move': {
        const source = this.bucket.get(action.from);
        const content = this.disk.get(action.to)!.content;
        // The engine checks the copied object against the local file; if the source is gone or differs, it uploads.
        const object = source !== undefined && source.content === content ? this.write(action.to, source.content) : this.write(action.to, content);
        this.recordSynced(action.to, object);
        if (action.deleteSource) this.bucket.delete(action.from);
        this.synced.delete(action.from);
        return;
      }
      case 'delete-remote':
        this.bucket.delete(action.path);
        this.synced.delete(action.path);
        return;
      case 'trash-remote':
        this.bucket.set(action.trashPath, this.bucket.get(action.path)!);
        this.bucket.delete(action.path);
        this.synced.delete(action.path);
        return;
      case 'forget':
        this.synced.delete(action.path);
        return;
      case 'refresh':
        this.recordSynced(action.path, this.bucket.get(action.path)!);
        return;
    }
  }
}

function runHistory(seed: number, policy: DeletePolicy): void {
  const rng = seededRandom(seed);
  const world = new World(rng, policy);
  for (let round = 0; round < 12; round++) {
    const changes = 1 + Math.floor(rng() * 6);
    for (let i = 0; i < changes; i++) world.mutate();
    // An interrupted run: only some of the plan's actions happen before the next change.
    const actions = world.plan();
    const seen = new Set<string>();
    for (const action of actions) {
      for (const path of pathsOf(action)) {
        expect(seen.has(path), `seed ${seed}: two actions on ${path}`).toBe(false);
        seen.add(path);
      }
      if (rng() < 0.6) world.execute(action);
    }
  }
  let iterations = 0;
  for (let actions = world.plan(); actions.length > 0; actions = world.plan()) {
    expect(++iterations, `seed ${seed} (${policy}) does not converge: ${JSON.stringify(actions)}`).toBeLessThan(5);
    for (const action of actions) world.execute(action);
  }

  const isOurLiveObject = (key: string) => !key.startsWith(TRASH_PREFIX) && !key.includes('.cosync-conflict-');
  for (const [path, file] of world.disk) {
    expect(world.bucket.get(path)?.content, `seed ${seed} (${policy}): ${path}`).toBe(file.content);
    expect(world.synced.get(path)?.hash, `seed ${seed} (${policy}): journal of ${path}`).toBe(file.content);
  }
  expect([...world.synced.keys()].sort(), `seed ${seed} (${policy}): journal tracks exactly the folder`).toEqual([...world.disk.keys()].sort());
  if (policy !== 'keep') {
    // Mirror and trash: every live object of ours maps to a local file; what else remains is someone else's.
    for (const [key, object] of world.bucket) {
      if (isOurLiveObject(key) && !world.disk.has(key)) expect(object.byOthers, `seed ${seed} (${policy}): stale object ${key}`).toBe(true);
    }
  }
  const contents = new Set([...world.bucket.values()].map((object) => object.content));
  for (const content of world.othersContent) expect(contents.has(content), `seed ${seed} (${policy}): lost someone else's ${content}`).toBe(true);
}

describe('planSync: random histories converge (seeded)', () => {
  it.each<DeletePolicy>(['keep', 'mirror', 'trash'])('policy %s: 400 histories', (policy) => {
    for (let seed = 1; seed <= 400; seed++) runHistory(seed * 7919 + policy.length, policy);
  });
});
