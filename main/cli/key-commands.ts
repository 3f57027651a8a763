/**
 * `cosync key generate|import|export|list|verify|delete`: SSE-C keys in the keychain (or the file
 * keystore). `key rotate` is in key-rotate-command.ts. Options are defined in commands.ts.
 */
import { resolve } from 'node:path';
import { parseBase64Key, parseRawTextKey, validateKeyName } from '../../app/keys.js';
import { CosyncError } from '../../app/result.js';
import { normalizePrefix, parseEndpoint, validateBucketName } from '../../app/target.js';
import { openEngine } from '../engine/engine.js';
import { SseCustomerKey } from '../secrets/secret-values.js';
import type { KeyCheck } from '../keys/verify-key.js';
import { credentialsFor, type Session, type SessionIo } from '../engine/session.js';
import { positiveInteger } from './cli-options.js';
import type { ParsedArguments } from './command-spec.js';
import type { KEY_DELETE_OPTIONS, KEY_EXPORT_OPTIONS, KEY_GENERATE_OPTIONS, KEY_IMPORT_OPTIONS, KEY_LIST_OPTIONS, KEY_VERIFY_OPTIONS } from './commands.js';
import { requireOption, targetFromFlags } from './target-flags.js';

/** `cosync key generate NAME`. */
export async function keyGenerate({ positionals }: ParsedArguments<typeof KEY_GENERATE_OPTIONS>, session: Session): Promise<number> {
  const { io } = session;
  const name = validateKeyName(singleName(positionals, 'key generate NAME'));
  const { generateKey } = await import('../keys/key-admin.js');
  const { key } = await generateKey(session, name);
  io.stdout.write(`fingerprint: ${key.fingerprint}\n`);
  io.stderr.write(`Export a recovery kit now (\`cosync key export ${name} --out FILE\`): without the key, data encrypted with it cannot be recovered.\n`);
  return 0;
}

/** `cosync key import NAME --from KIT | --base64 B64 | --stdin`. */
export async function keyImport({ values, positionals }: ParsedArguments<typeof KEY_IMPORT_OPTIONS>, session: Session): Promise<number> {
  const { io } = session;
  const [{ checkImportedKey }, { storeImportedKey }, { readKit }, { kitPassphraseFrom }] = await Promise.all([
    import('./key-import-check.js'),
    import('../keys/key-admin.js'),
    import('../secrets/recovery-kit.js'),
    import('../secrets/sealed-kit.js'),
  ]);
  const name = validateKeyName(singleName(positionals, 'key import NAME --from KIT | --base64 B64 | --stdin'));
  const sources = [values.from, values.base64, values.stdin === true ? 'stdin' : undefined].filter((source) => source !== undefined);
  if (sources.length !== 1) throw new CosyncError('usage', 'key import needs exactly one of --from KIT, --base64 B64 or --stdin');
  let key: SseCustomerKey;
  if (values.from !== undefined) {
    if (values.raw === true) throw new CosyncError('usage', '--raw applies to --base64 or --stdin input, not to a recovery kit');
    // Asked for only when the kit is sealed.
    key = (await readKit(values.from, { passphrase: () => kitPassphraseFrom(io, false) })).key;
  } else {
    const text = values.base64 ?? (await readAllStdin(io));
    key = new SseCustomerKey(values.raw === true ? parseRawTextKey(text) : parseBase64Key(text));
  }
  // Before anything is stored: a kit of other data is refused here, not at the first restore.
  const checked = await checkImportedKey(session, name, key, values);
  await storeImportedKey(session, name, key, { replace: values.replace === true, fromKit: values.from !== undefined, checked });
  if (checked !== undefined) io.stderr.write(`${checked}\n`);
  io.stdout.write(`fingerprint: ${key.fingerprint}\n`);
  return 0;
}

/** `cosync key export NAME --out FILE`. */
export async function keyExport({ values, positionals }: ParsedArguments<typeof KEY_EXPORT_OPTIONS>, session: Session): Promise<number> {
  const name = validateKeyName(singleName(positionals, 'key export NAME --out FILE'));
  const out = resolve(requireOption(values.out, 'out FILE', ' (where to write the recovery kit)'));
  const location = {
    endpoint: values.endpoint === undefined ? undefined : parseEndpoint(values.endpoint).url,
    bucket: values.bucket === undefined ? undefined : validateBucketName(values.bucket),
    prefix: values.prefix === undefined ? undefined : normalizePrefix(values.prefix),
  };
  const [{ exportRecoveryKit }, { kitPassphraseFrom, SEALED_KIT_ADVICE }] = await Promise.all([import('../keys/key-admin.js'), import('../secrets/sealed-kit.js')]);
  const sealWith = values.sealed === true ? () => kitPassphraseFrom(session.io, true) : undefined;
  const { key } = await exportRecoveryKit(session, name, out, location, { force: values.force === true, printable: values.printable === true, sealWith });
  session.io.stdout.write(
    sealWith === undefined
      ? `recovery kit written to ${out} (fingerprint ${key.fingerprint}); store it offline — anyone with it can read the data\n`
      : `sealed recovery kit written to ${out} (fingerprint ${key.fingerprint}); ${SEALED_KIT_ADVICE}\n`,
  );
  return 0;
}

/** `cosync key list`. */
export async function keyList({ positionals }: ParsedArguments<typeof KEY_LIST_OPTIONS>, session: Session): Promise<number> {
  const { io } = session;
  if (positionals.length > 0) throw new CosyncError('usage', `unexpected argument ${JSON.stringify(positionals[0])}; key list takes no names`);
  const keys = await session.keychain.listKeys();
  if (keys.length === 0) io.stdout.write('no keys; create one with `cosync key generate NAME`\n');
  for (const key of keys) io.stdout.write(`${key.name}\t${key.fingerprint ?? '(damaged)'}\n`);
  return 0;
}

/** `cosync key delete NAME --yes`. */
export async function keyDelete({ values, positionals }: ParsedArguments<typeof KEY_DELETE_OPTIONS>, session: Session): Promise<number> {
  const name = validateKeyName(singleName(positionals, 'key delete NAME --yes'));
  if (values.yes !== true) {
    throw new CosyncError('usage', `deleting key ${JSON.stringify(name)} makes every object encrypted with it unreadable unless you kept its recovery kit; pass --yes to confirm`);
  }
  if (!(await session.keychain.deleteKey(name))) throw new CosyncError('key-not-found', `no SSE-C key named ${JSON.stringify(name)} in the keychain`);
  await session.config.update((config) => ({ ...config, keys: Object.fromEntries(Object.entries(config.keys).filter(([keyName]) => keyName !== name)) }));
  session.logger.log('info', 'key-deleted', { name });
  session.io.stdout.write(`deleted key ${name}\n`);
  return 0;
}

/** `cosync key verify NAME --endpoint URL --bucket B [--prefix P]`. */
export async function keyVerify({ values, positionals }: ParsedArguments<typeof KEY_VERIFY_OPTIONS>, session: Session): Promise<number> {
  const { io } = session;
  const name = validateKeyName(singleName(positionals, 'key verify NAME --endpoint URL --bucket B [--prefix P]'));
  const target = targetFromFlags({ ...values, sse: 'c', key: name }, 'c');
  const limit = positiveInteger(values.limit, 'limit', 20, 1_000_000);
  const key = await session.keychain.getKey(name);
  const credentials = await credentialsFor(session, values.account);
  const engine = await openEngine(session);
  try {
    const store = await engine.stores.open(target, credentials);
    const recordedFingerprint = await engine.stores.recordedFingerprints(target);
    await store.checkAccess(target.prefix);
    const { verifyKeyAgainstObjects } = await import('../keys/verify-key.js');
    const results = await verifyKeyAgainstObjects(store, key, target.prefix, limit);
    if (results.length === 0) throw new CosyncError('object-not-found', `no objects under ${target.prefix === '' ? 'the bucket root' : `prefix ${JSON.stringify(target.prefix)}`} to check the key against`);
    const label: Record<KeyCheck, string> = { match: 'match    ', mismatch: 'MISMATCH ', 'not-sse-c': 'not SSE-C' };
    for (const { objectKey, result } of results) {
      const recorded = result === 'mismatch' ? recordedFingerprint(objectKey) : undefined;
      io.stdout.write(`${label[result]} ${objectKey}${recorded === undefined ? '' : ` (encrypted with key fingerprint ${recorded})`}\n`);
    }
    const matched = results.filter((entry) => entry.result === 'match').length;
    const mismatched = results.filter((entry) => entry.result === 'mismatch').length;
    io.stdout.write(`key ${name} (fingerprint ${key.fingerprint}): ${matched} of ${results.length} checked objects match, ${mismatched} encrypted with another key\n`);
    return mismatched === 0 && matched > 0 ? 0 : 1;
  } finally {
    await engine.close(0);
  }
}

/** The one NAME a key command takes. */
export function singleName(positionals: ReadonlyArray<string>, usage: string): string {
  if (positionals.length !== 1) throw new CosyncError('usage', `expected: cosync ${usage}`);
  return positionals[0] as string;
}

/** All of stdin, as text. */
export async function readAllStdin(io: SessionIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
