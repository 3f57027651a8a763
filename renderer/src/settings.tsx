/**
 * Settings: add a sync folder (store, bucket, encryption, delete policy, "Test connection"), and
 * keys (generate, export the recovery kit — required before a key's first SSE-C folder — sealed
 * under a passphrase by default). Keys are never shown or sent here: the engine keeps them in the
 * keychain; the window sees fingerprints. A kit passphrase stays in this window only until the
 * call that uses it returns.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import type { AddFolderRequest, FolderOverview, JobSummary, KeySummary } from '../../app/contract.js';
import { MIN_NEW_PASSPHRASE_CHARACTERS } from '../../app/keys.js';
import { COS_STORAGE_CLASSES, S3_STORAGE_CLASSES } from '../../app/storage-class.js';
import { FolderSelect } from './overview.js';
import type { CosyncErrorInfo } from '../../app/result.js';
import type { DeletePolicy } from '../../app/sync-model.js';
import type { SseMode } from '../../app/target.js';
import type { Transport } from './transport.js';

type Feedback = { readonly kind: 'ok' | 'error' | 'busy' | 'info'; readonly text: string } | undefined;

function FeedbackLine({ feedback, testId }: { readonly feedback: Feedback; readonly testId: string }) {
  if (feedback === undefined) return null;
  return (
    <p className={`notice notice-${feedback.kind === 'ok' ? 'ok' : feedback.kind === 'error' ? 'error' : 'info'}`} role={feedback.kind === 'error' ? 'alert' : 'status'} data-testid={testId}>
      {feedback.text}
    </p>
  );
}

const errorText = (error: CosyncErrorInfo): string => error.message;

/** Keys: list, generate, export a recovery kit to a file on the engine's machine. */
export function KeysPanel({
  transport,
  keys,
  onChanged,
  onJob,
}: {
  readonly transport: Transport;
  readonly keys: ReadonlyArray<KeySummary>;
  readonly onChanged: () => void;
  readonly onJob?: (job: JobSummary) => void;
}) {
  const [rotationKits, setRotationKits] = useState<Record<string, string>>({});
  const [name, setName] = useState('');
  const [importName, setImportName] = useState('');
  const [importPath, setImportPath] = useState('');
  /** Set once the engine says the kit to import is sealed: the form then asks for its passphrase. */
  const [importSealed, setImportSealed] = useState(false);
  const [importPassphrase, setImportPassphrase] = useState('');
  const [feedback, setFeedback] = useState<Feedback>();
  const nameId = useId();

  const generate = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setFeedback({ kind: 'busy', text: `Generating key ${name}…` });
    const answer = await transport.call('sync:generate-key', { name: name.trim() });
    if (!answer.ok) return setFeedback({ kind: 'error', text: errorText(answer.error) });
    setFeedback({ kind: 'ok', text: `Key ${answer.value.name} created (fingerprint ${answer.value.fingerprint}). Export its recovery kit now: without it, a lost keychain means lost data.` });
    setName('');
    onChanged();
  };

  const importKit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setFeedback({ kind: 'busy', text: `Importing ${importName}…` });
    const passphrase = importSealed ? importPassphrase : undefined;
    const answer = await transport.call('sync:import-key', { name: importName.trim(), kitPath: importPath.trim(), passphrase });
    // The passphrase has done its work, whatever the answer: it is not kept.
    setImportPassphrase('');
    if (!answer.ok) {
      if (answer.error.code === 'kit-passphrase-needed') {
        setImportSealed(true);
        return setFeedback({ kind: 'info', text: `${importPath.trim()} is a sealed recovery kit: enter the passphrase it was sealed with, then import again.` });
      }
      return setFeedback({ kind: 'error', text: errorText(answer.error) });
    }
    setFeedback({ kind: 'ok', text: `Key ${answer.value.name} imported (fingerprint ${answer.value.fingerprint}).` });
    setImportName('');
    setImportPath('');
    setImportSealed(false);
    onChanged();
  };

  const rotate = async (key: KeySummary): Promise<void> => {
    const kitPath = (rotationKits[key.name] ?? '').trim();
    setFeedback({ kind: 'busy', text: `Starting the rotation of ${key.name}…` });
    const answer = await transport.call('sync:rotate-key', { folderId: key.folders[0] as string, kitPath });
    if (!answer.ok) return setFeedback({ kind: 'error', text: errorText(answer.error) });
    setFeedback({ kind: 'ok', text: `Rotating ${key.name}: the new key's recovery kit goes to ${kitPath} first; the folder pauses until every object is re-encrypted.` });
    onJob?.(answer.value);
  };

  return (
    <section className="panel" aria-labelledby="keys-title">
      <h2 id="keys-title">Encryption keys (SSE-C)</h2>
      <p className="muted">Keys live only in this computer's keychain; COS never stores them. A recovery kit is the only other copy.</p>
      {keys.length === 0 ? <p>No keys yet. Generate one to encrypt a folder with a key only you hold.</p> : null}
      <ul className="key-list">
        {keys.map((key) => (
          <li key={key.name} data-key={key.name}>
            <div>
              <strong>{key.name}</strong> <code title="Fingerprint (base64 MD5 of the key)">{key.fingerprint ?? 'damaged keychain item'}</code>
              <span className={key.kitExportedAt === undefined ? 'badge badge-error' : 'badge badge-idle'}>{key.kitExportedAt === undefined ? 'No recovery kit yet' : `Kit exported ${new Date(key.kitExportedAt).toLocaleDateString()}`}</span>
              {key.folders.length > 0 ? <span className="muted"> · used by {key.folders.join(', ')}</span> : null}
            </div>
            <ExportKitForm transport={transport} keyName={key.name} onFeedback={setFeedback} onChanged={onChanged} />
            {key.folders.length === 1 ? (
              <div className="inline-form">
                <label>
                  New key’s kit{' '}
                  <input
                    type="text"
                    placeholder="/media/usb/new-key.kit.json"
                    value={rotationKits[key.name] ?? ''}
                    onChange={(event) => setRotationKits({ ...rotationKits, [key.name]: event.target.value })}
                    aria-label={`Recovery kit file for the new key of ${key.name}`}
                  />
                </label>
                <button type="button" onClick={() => void rotate(key)} disabled={(rotationKits[key.name] ?? '').trim() === ''} aria-label={`Rotate key ${key.name}`}>
                  Rotate key
                </button>
              </div>
            ) : null}
          </li>
        ))}
      </ul>
      <form className="inline-form" onSubmit={(event) => void importKit(event)}>
        <label>
          Import as{' '}
          <input type="text" value={importName} onChange={(event) => setImportName(event.target.value)} placeholder="photos" aria-label="Name for the imported key" />
        </label>
        <label>
          from kit{' '}
          <input
            type="text"
            value={importPath}
            onChange={(event) => {
              setImportPath(event.target.value);
              // Another file may be a clear kit: ask again only if the engine says so.
              setImportSealed(false);
              setImportPassphrase('');
            }}
            placeholder="/media/usb/photos.kit.json"
            aria-label="Recovery kit to import"
          />
        </label>
        {importSealed ? (
          <label>
            Kit passphrase{' '}
            <input type="password" autoComplete="off" autoFocus value={importPassphrase} onChange={(event) => setImportPassphrase(event.target.value)} aria-label="Passphrase of the sealed kit" />
          </label>
        ) : null}
        <button type="submit" disabled={importName.trim() === '' || importPath.trim() === '' || (importSealed && importPassphrase === '')}>
          Import key
        </button>
      </form>
      <form className="inline-form" onSubmit={(event) => void generate(event)}>
        <label htmlFor={nameId}>New key name</label>
        <input id={nameId} type="text" value={name} onChange={(event) => setName(event.target.value)} placeholder="photos" />
        <button type="submit" disabled={name.trim() === ''}>
          Generate key
        </button>
      </form>
      <FeedbackLine feedback={feedback} testId="keys-feedback" />
    </section>
  );
}

/**
 * One key's kit export: the file, and sealed (the default: a passphrase typed twice) or in clear.
 * The passphrase fields are emptied as soon as the engine answers.
 */
function ExportKitForm({
  transport,
  keyName,
  onFeedback,
  onChanged,
}: {
  readonly transport: Transport;
  readonly keyName: string;
  readonly onFeedback: (feedback: Feedback) => void;
  readonly onChanged: () => void;
}) {
  const [path, setPath] = useState('');
  const [sealed, setSealed] = useState(true);
  const [passphrase, setPassphrase] = useState('');
  const [confirmation, setConfirmation] = useState('');
  const tooShort = [...passphrase.normalize('NFC')].length < MIN_NEW_PASSPHRASE_CHARACTERS;
  const mismatch = confirmation !== '' && confirmation !== passphrase;
  const ready = path.trim() !== '' && (!sealed || (!tooShort && confirmation === passphrase));

  const exportKit = async (): Promise<void> => {
    const file = path.trim();
    onFeedback({ kind: 'busy', text: `Writing the ${sealed ? 'sealed ' : ''}recovery kit of ${keyName}…` });
    const answer = await transport.call('sync:export-kit', { name: keyName, path: file, passphrase: sealed ? passphrase : undefined });
    setPassphrase('');
    setConfirmation('');
    if (!answer.ok) return onFeedback({ kind: 'error', text: errorText(answer.error) });
    onFeedback({
      kind: 'ok',
      text: sealed
        ? `Sealed recovery kit of ${keyName} written to ${file}. It opens only with its passphrase, so it may be kept online (a cloud drive, a mail to yourself); keep the passphrase somewhere else: forgotten, it makes the kit useless.`
        : `Recovery kit of ${keyName} written to ${file}. Keep it offline (a USB stick, a printout in a safe): anyone holding it can read this key's data.`,
    });
    onChanged();
  };

  return (
    <div className="inline-form">
      <label>
        Kit file{' '}
        <input type="text" placeholder="/home/you/cosync-key.kit.json" value={path} onChange={(event) => setPath(event.target.value)} aria-label={`Recovery kit file for ${keyName}`} />
      </label>
      <label className="checkbox">
        <input
          type="checkbox"
          checked={sealed}
          onChange={(event) => {
            setSealed(event.target.checked);
            setPassphrase('');
            setConfirmation('');
          }}
          aria-label={`Seal the kit of ${keyName} under a passphrase`}
        />{' '}
        Sealed under a passphrase (safe to keep online)
      </label>
      {sealed ? (
        <>
          <label>
            Passphrase{' '}
            <input type="password" autoComplete="new-password" value={passphrase} onChange={(event) => setPassphrase(event.target.value)} aria-label={`Kit passphrase for ${keyName}`} />
          </label>
          <label>
            Again{' '}
            <input type="password" autoComplete="new-password" value={confirmation} onChange={(event) => setConfirmation(event.target.value)} aria-label={`Kit passphrase for ${keyName}, again`} />
          </label>
          {passphrase !== '' && tooShort ? <span className="muted">at least {MIN_NEW_PASSPHRASE_CHARACTERS} characters (a few random words make a good one)</span> : null}
          {mismatch ? <span className="muted" role="alert">The two passphrases differ.</span> : null}
        </>
      ) : null}
      <button type="button" onClick={() => void exportKit()} disabled={!ready} aria-label={`Export recovery kit of ${keyName}`}>
        Export recovery kit
      </button>
    </div>
  );
}

/** A folder's .cosyncignore, edited in place; the built-in rules listed beside it. */
export function IgnoreRulesPanel({ transport, folders }: { readonly transport: Transport; readonly folders: ReadonlyArray<FolderOverview> }) {
  const [folderId, setFolderId] = useState(folders[0]?.id ?? '');
  const [text, setText] = useState<string | undefined>();
  const [builtIn, setBuiltIn] = useState<ReadonlyArray<string>>([]);
  const [feedback, setFeedback] = useState<Feedback>();
  const current = folders.some((folder) => folder.id === folderId) ? folderId : (folders[0]?.id ?? '');

  useEffect(() => {
    if (current === '') return;
    let live = true;
    setText(undefined);
    void transport.call('sync:ignore-rules', { folderId: current }).then((answer) => {
      if (!live) return;
      if (answer.ok) {
        setText(answer.value.text);
        setBuiltIn(answer.value.builtIn);
      } else setFeedback({ kind: 'error', text: answer.error.message });
    });
    return () => {
      live = false;
    };
  }, [transport, current]);

  if (folders.length === 0) return null;
  const save = async (): Promise<void> => {
    const answer = await transport.call('sync:set-ignore-rules', { folderId: current, text: text ?? '' });
    setFeedback(answer.ok ? { kind: 'ok', text: 'Saved. The folder is looked at again under the new rules; objects of files now ignored stay in the bucket.' } : { kind: 'error', text: answer.error.message });
  };
  return (
    <section className="panel" aria-labelledby="ignore-title">
      <h2 id="ignore-title">Ignore rules</h2>
      <div className="toolbar">
        <label>
          Folder <FolderSelect folders={folders} value={current} onChange={setFolderId} label="Folder for ignore rules" />
        </label>
      </div>
      <p className="muted">
        One pattern a line, as in .gitignore (<code>*.tmp</code>, <code>build/</code>, <code>!keep.tmp</code>). Always ignored: {builtIn.map((rule) => <code key={rule}>{rule} </code>)}
      </p>
      <textarea rows={8} value={text ?? ''} disabled={text === undefined} onChange={(event) => setText(event.target.value)} aria-label=".cosyncignore" spellCheck={false} />
      <div className="form-row">
        <button type="button" onClick={() => void save()} disabled={text === undefined}>
          Save rules
        </button>
      </div>
      <FeedbackLine feedback={feedback} testId="ignore-feedback" />
    </section>
  );
}

/** How many files and requests run at once (the upload limit is in the header); saved for the next start. */
export function TransfersPanel({ transport, concurrency, onChanged }: { readonly transport: Transport; readonly concurrency: { readonly files: number; readonly parts: number }; readonly onChanged: () => void }) {
  const [files, setFiles] = useState(String(concurrency.files));
  const [parts, setParts] = useState(String(concurrency.parts));
  const [feedback, setFeedback] = useState<Feedback>();
  useEffect(() => {
    setFiles(String(concurrency.files));
    setParts(String(concurrency.parts));
  }, [concurrency.files, concurrency.parts]);
  const save = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const answer = await transport.call('sync:set-concurrency', { files: Number(files), parts: Number(parts) });
    if (!answer.ok) return setFeedback({ kind: 'error', text: errorText(answer.error) });
    setFeedback({ kind: 'ok', text: `Up to ${files} files and ${parts} requests at once, from now on.` });
    onChanged();
  };
  return (
    <section className="panel" aria-labelledby="transfers-title">
      <h2 id="transfers-title">Transfers</h2>
      <form className="inline-form" onSubmit={(event) => void save(event)}>
        <label>
          Files at once <input type="number" min={1} max={64} step={1} value={files} onChange={(event) => setFiles(event.target.value)} aria-label="Files at once" />
        </label>
        <label>
          Requests at once <input type="number" min={1} max={64} step={1} value={parts} onChange={(event) => setParts(event.target.value)} aria-label="Requests at once" />
        </label>
        <button type="submit">Apply</button>
      </form>
      <p className="muted">More requests use more bandwidth and memory (about one part, 16 MiB by default, each); fewer leave the connection free for other things.</p>
      <FeedbackLine feedback={feedback} testId="transfers-feedback" />
    </section>
  );
}

/** Desktop-only settings (start at login); nothing in a browser. */
export function DesktopPanel({ transport }: { readonly transport: Transport }) {
  const [startAtLogin, setStartAtLogin] = useState<boolean | undefined>();
  useEffect(() => {
    void transport.startAtLogin?.(null).then(setStartAtLogin);
  }, [transport]);
  if (transport.startAtLogin === undefined) return null;
  return (
    <section className="panel" aria-labelledby="desktop-title">
      <h2 id="desktop-title">Desktop</h2>
      <label className="radio">
        <input type="checkbox" checked={startAtLogin === true} disabled={startAtLogin === undefined} onChange={(event) => void transport.startAtLogin?.(event.target.checked).then(setStartAtLogin)} /> Start cosync when I log in
        (in the tray, without a window)
      </label>
    </section>
  );
}

const SSE_CHOICES: ReadonlyArray<readonly [SseMode, string]> = [
  ['cos', 'SSE-COS: keys managed by COS (S3: SSE-S3)'],
  ['kms', 'SSE-KMS: keys in the cloud KMS'],
  ['c', 'SSE-C: your own key, which COS never stores'],
  ['none', 'None'],
];

const POLICY_CHOICES: ReadonlyArray<readonly [DeletePolicy, string]> = [
  ['keep', 'Keep its copy in the bucket (backup)'],
  ['trash', 'Move its copy to .cosync-trash/ in the bucket'],
  ['mirror', 'Delete its copy too (mirror)'],
];

/** One radio button per choice. */
function Choices<T extends string>({ name, value, onChange, choices }: { readonly name: string; readonly value: T; readonly onChange: (value: T) => void; readonly choices: ReadonlyArray<readonly [T, string]> }) {
  return (
    <>
      {choices.map(([choice, label]) => (
        <label key={choice} className="radio">
          <input type="radio" name={name} value={choice} checked={value === choice} onChange={() => onChange(choice)} /> {label}
        </label>
      ))}
    </>
  );
}

const EMPTY_FORM: AddFolderRequest = {
  localPath: '',
  endpoint: '',
  region: undefined,
  bucket: '',
  prefix: '',
  pathStyle: false,
  account: undefined,
  sse: 'cos',
  keyName: undefined,
  kmsKeyId: undefined,
  policy: 'keep',
};

/** Adds a sync folder. With SSE-C, the key's recovery kit must be exported first (the engine checks too). */
export function AddFolderForm({ transport, keys, onAdded }: { readonly transport: Transport; readonly keys: ReadonlyArray<KeySummary>; readonly onAdded: (id: string) => void }) {
  const [form, setForm] = useState<AddFolderRequest>(EMPTY_FORM);
  const [feedback, setFeedback] = useState<Feedback>();
  const [connection, setConnection] = useState<Feedback>();
  const set = <K extends keyof AddFolderRequest>(field: K, value: AddFolderRequest[K]): void => setForm((current) => ({ ...current, [field]: value }));
  const key = keys.find((candidate) => candidate.name === form.keyName);
  const kitMissing = form.sse === 'c' && key !== undefined && key.kitExportedAt === undefined;

  useEffect(() => {
    // The first key is the natural choice for SSE-C.
    if (form.sse === 'c' && form.keyName === undefined && keys[0] !== undefined) set('keyName', keys[0].name);
  }, [form.sse, form.keyName, keys]);

  const testConnection = async (): Promise<void> => {
    setConnection({ kind: 'busy', text: 'Connecting…' });
    const { endpoint, region, bucket, prefix, pathStyle, account } = form;
    const answer = await transport.call('sync:test-connection', { endpoint, region, bucket, prefix, pathStyle, account });
    setConnection(answer.ok ? { kind: 'ok', text: `Connected: ${answer.value.description} answers and the credentials work.` } : { kind: 'error', text: errorText(answer.error) });
  };

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setFeedback({ kind: 'busy', text: 'Checking the folder, key, credentials and bucket…' });
    const answer = await transport.call('sync:add-folder', { ...form, keyName: form.sse === 'c' ? form.keyName : undefined, kmsKeyId: form.sse === 'kms' ? form.kmsKeyId : undefined });
    if (!answer.ok) return setFeedback({ kind: 'error', text: errorText(answer.error) });
    setFeedback({ kind: 'ok', text: `Added ${answer.value.localPath}; the first sync has started.` });
    setForm(EMPTY_FORM);
    onAdded(answer.value.id);
  };

  return (
    <section className="panel" aria-labelledby="add-folder-title">
      <h2 id="add-folder-title">Add a sync folder</h2>
      <form className="grid-form" onSubmit={(event) => void submit(event)}>
        <div className="form-row">
          <label className="grow">
            Local folder
            <input type="text" required value={form.localPath} onChange={(event) => set('localPath', event.target.value)} placeholder="/home/you/Documents" />
          </label>
          {transport.pickFolder !== undefined ? (
            <button type="button" onClick={() => void transport.pickFolder?.().then((path) => path !== undefined && set('localPath', path))}>
              Choose…
            </button>
          ) : null}
        </div>
        <label>
          Endpoint URL
          <input type="text" value={form.endpoint} onChange={(event) => set('endpoint', event.target.value)} placeholder="https://cos.ap-guangzhou.myqcloud.com (or leave empty and give the COS region)" />
        </label>
        <label>
          COS region
          <input type="text" value={form.region ?? ''} onChange={(event) => set('region', event.target.value === '' ? undefined : event.target.value)} placeholder="ap-guangzhou" />
        </label>
        <label>
          Bucket
          <input type="text" required value={form.bucket} onChange={(event) => set('bucket', event.target.value)} placeholder="examplebucket-1250000000" />
        </label>
        <label>
          Prefix in the bucket
          <input type="text" value={form.prefix} onChange={(event) => set('prefix', event.target.value)} placeholder="documents/" />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={form.pathStyle} onChange={(event) => set('pathStyle', event.target.checked)} /> Path-style addressing (most S3-compatible servers)
        </label>
        <label>
          Credentials account
          <input type="text" value={form.account ?? ''} onChange={(event) => set('account', event.target.value === '' ? undefined : event.target.value)} placeholder="default" />
        </label>
        <div className="form-row">
          <button type="button" onClick={() => void testConnection()} disabled={form.bucket.trim() === ''}>
            Test connection
          </button>
          <FeedbackLine feedback={connection} testId="connection-feedback" />
        </div>
        <fieldset>
          <legend>Encryption on the server</legend>
          <Choices name="sse" value={form.sse} onChange={(mode) => set('sse', mode)} choices={SSE_CHOICES} />
          {form.sse === 'kms' ? (
            <label>
              KMS key id (optional)
              <input type="text" value={form.kmsKeyId ?? ''} onChange={(event) => set('kmsKeyId', event.target.value === '' ? undefined : event.target.value)} />
            </label>
          ) : null}
          {form.sse === 'c' ? (
            keys.length === 0 ? (
              <p className="notice notice-warn">Generate a key under “Encryption keys” first.</p>
            ) : (
              <label>
                Key
                <select value={form.keyName ?? ''} onChange={(event) => set('keyName', event.target.value)} aria-label="Key">
                  {keys.map((candidate) => (
                    <option key={candidate.name} value={candidate.name}>
                      {candidate.name} ({candidate.fingerprint})
                    </option>
                  ))}
                </select>
              </label>
            )
          ) : null}
          {kitMissing ? (
            <p className="notice notice-warn" role="alert" data-testid="kit-gate">
              Key {form.keyName} has no recovery kit yet. Export it under “Encryption keys” and keep it offline before this folder’s first upload: with SSE-C, nobody else can recover your
              data.
            </p>
          ) : null}
        </fieldset>
        <label>
          Storage class of new objects
          <select value={form.storageClass ?? ''} onChange={(event) => set('storageClass', event.target.value === '' ? undefined : event.target.value)} aria-label="Storage class">
            <option value="">Bucket default (STANDARD)</option>
            <optgroup label="Tencent COS (MAZ_ classes: multi-AZ buckets only)">
              {COS_STORAGE_CLASSES.map((storageClass) => (
                <option key={storageClass} value={storageClass}>
                  {storageClass}
                </option>
              ))}
            </optgroup>
            <optgroup label="Other S3 stores">
              {S3_STORAGE_CLASSES.filter((storageClass) => !COS_STORAGE_CLASSES.includes(storageClass)).map((storageClass) => (
                <option key={storageClass} value={storageClass}>
                  {storageClass}
                </option>
              ))}
            </optgroup>
          </select>
        </label>
        <fieldset>
          <legend>When a file is deleted here</legend>
          <Choices name="policy" value={form.policy} onChange={(policy) => set('policy', policy)} choices={POLICY_CHOICES} />
        </fieldset>
        <div className="form-row">
          <button type="submit" className="primary" disabled={kitMissing || form.localPath.trim() === '' || form.bucket.trim() === '' || (form.sse === 'c' && form.keyName === undefined)}>
            Add folder
          </button>
        </div>
      </form>
      <FeedbackLine feedback={feedback} testId="add-folder-feedback" />
    </section>
  );
}
