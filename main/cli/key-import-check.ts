/**
 * `cosync key import NAME … --folder ID` (or `--endpoint URL --bucket B [--prefix P]`): before a
 * key is stored, HEAD existing objects of that place with it. A recovery kit of some other data
 * is then refused on the spot, instead of being found out at the first restore — or never, by a
 * folder that goes on to upload under a key nobody meant.
 */
import { CosyncError } from '../../app/result.js';
import { folderTarget } from '../../app/sync-model.js';
import type { Target } from '../../app/target.js';
import type { SseCustomerKey } from '../secrets/secret-values.js';
import { verifyKeyAgainstObjects } from '../keys/verify-key.js';
import { findFolder } from '../daemon/folder-admin.js';
import { openEngine } from '../engine/engine.js';
import { credentialsFor, type Session } from '../engine/session.js';
import { targetFromFlags, type TargetFlags } from './target-flags.js';

/** What `key import` checks the key against: a sync folder, or a target's location. */
export type ImportCheckValues = Pick<TargetFlags, 'endpoint' | 'region' | 'bucket' | 'prefix' | 'path-style'> & {
  readonly folder?: string | undefined;
  readonly account?: string | undefined;
};

/** Enough objects to catch a wrong kit; each costs one or two HEADs. */
const OBJECTS_CHECKED = 10;

/**
 * Checks `key` against the objects named by the flags. Throws 'key-mismatch' when objects exist
 * there and the key decrypts none of them; otherwise returns a sentence on what was checked, or
 * undefined when the flags name no place.
 */
export async function checkImportedKey(session: Session, name: string, key: SseCustomerKey, values: ImportCheckValues): Promise<string | undefined> {
  const place = await placeToCheck(session, name, values);
  if (place === undefined) return undefined;
  const { target, account, where } = place;
  const credentials = await credentialsFor(session, account);
  const engine = await openEngine(session);
  try {
    const store = await engine.stores.open(target, credentials);
    const recordedFingerprint = await engine.stores.recordedFingerprints(target);
    await store.checkAccess(target.prefix);
    const results = await verifyKeyAgainstObjects(store, key, target.prefix, OBJECTS_CHECKED);
    const matched = results.filter((entry) => entry.result === 'match').length;
    const mismatched = results.filter((entry) => entry.result === 'mismatch').map((entry) => entry.objectKey);
    const firstMismatch = mismatched[0];
    if (firstMismatch !== undefined && matched === 0) {
      const recorded = recordedFingerprint(firstMismatch);
      const written = recorded === undefined ? 'it was encrypted with another key, whose fingerprint this machine has no record of' : `it was encrypted with key fingerprint ${recorded}`;
      throw new CosyncError(
        'key-mismatch',
        `this key does not decrypt ${JSON.stringify(firstMismatch)} (${written}; you supplied ${key.fingerprint}); key ${JSON.stringify(name)} was not stored — import the recovery kit of the key that ${where} was backed up with`,
      );
    }
    if (matched === 0) return `no SSE-C object under ${where} to check the key against; stored it unchecked`;
    if (firstMismatch !== undefined) {
      // Some objects decrypt, so this is the place's key; others were written with another one (an interrupted rotation, or another writer).
      return `the key decrypts ${matched} of ${results.length} checked objects under ${where}; ${mismatched.length} (e.g. ${JSON.stringify(firstMismatch)}) are encrypted with another key`;
    }
    return `the key decrypts the ${matched} SSE-C object${matched === 1 ? '' : 's'} checked under ${where}`;
  } finally {
    await engine.close(0);
  }
}

/** The store and prefix from `--folder ID` or from target flags; undefined when neither is given. */
async function placeToCheck(session: Session, name: string, values: ImportCheckValues): Promise<{ target: Target; account: string | undefined; where: string } | undefined> {
  const targetFlags = (['endpoint', 'region', 'bucket', 'prefix', 'path-style'] as const).filter((flag) => values[flag] !== undefined);
  if (values.folder !== undefined) {
    if (targetFlags.length > 0) {
      throw new CosyncError('usage', `--folder takes the endpoint, bucket and prefix from the folder; leave out ${targetFlags.map((flag) => `--${flag}`).join(', ')}`);
    }
    const folder = findFolder((await session.config.load()).folders, values.folder, 'cosync key import NAME … --folder ID');
    const target: Target = { ...folderTarget(folder), sse: 'c', keyName: name, kmsKeyId: undefined };
    return { target, account: values.account ?? folder.account, where: `folder ${folder.id} (${describePlace(target)})` };
  }
  if (targetFlags.length === 0) {
    if (values.account !== undefined) throw new CosyncError('usage', '--account is used with --folder ID or --endpoint/--bucket, to check the key against objects there');
    return undefined;
  }
  const target = targetFromFlags({ endpoint: values.endpoint, region: values.region, bucket: values.bucket, prefix: values.prefix, 'path-style': values['path-style'], sse: 'c', key: name }, 'c');
  return { target, account: values.account, where: describePlace(target) };
}

function describePlace(target: Target): string {
  return `${target.prefix === '' ? 'the root of ' : `prefix ${JSON.stringify(target.prefix)} of `}bucket ${JSON.stringify(target.bucket)} at ${target.endpoint.url}`;
}
