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
import { useTranslation } from 'react-i18next';
import { useFormat } from './i18n.js';
import { FolderSelect } from './overview.js';
import type { CosyncErrorInfo } from '../../app/result.js';
import type { DeletePolicy } from '../../app/sync-model.js';
import type { SseMode } from '../../app/target.js';
import type { Transport } from './transport.js';

/** A line of feedback under a form: busy, done, or the engine's own message. */
export type Feedback = { readonly kind: 'ok' | 'error' | 'busy' | 'info'; readonly text: string } | undefined;

export function FeedbackLine({ feedback, testId }: { readonly feedback: Feedback; readonly testId: string }) {
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
  const { t } = useTranslation();
  const format = useFormat();

  const generate = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setFeedback({ kind: 'busy', text: t('keys.generating', { name }) });
    const answer = await transport.call('sync:generate-key', { name: name.trim() });
    if (!answer.ok) return setFeedback({ kind: 'error', text: errorText(answer.error) });
    setFeedback({ kind: 'ok', text: t('keys.created', { name: answer.value.name, fingerprint: answer.value.fingerprint }) });
    setName('');
    onChanged();
  };

  const importKit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setFeedback({ kind: 'busy', text: t('keys.importing', { name: importName }) });
    const passphrase = importSealed ? importPassphrase : undefined;
    const answer = await transport.call('sync:import-key', { name: importName.trim(), kitPath: importPath.trim(), passphrase });
    // The passphrase has done its work, whatever the answer: it is not kept.
    setImportPassphrase('');
    if (!answer.ok) {
      if (answer.error.code === 'kit-passphrase-needed') {
        setImportSealed(true);
        return setFeedback({ kind: 'info', text: t('keys.sealedKit', { path: importPath.trim() }) });
      }
      return setFeedback({ kind: 'error', text: errorText(answer.error) });
    }
    setFeedback({ kind: 'ok', text: t('keys.imported', { name: answer.value.name, fingerprint: answer.value.fingerprint }) });
    setImportName('');
    setImportPath('');
    setImportSealed(false);
    onChanged();
  };

  const rotate = async (key: KeySummary): Promise<void> => {
    const kitPath = (rotationKits[key.name] ?? '').trim();
    setFeedback({ kind: 'busy', text: t('keys.rotationStarting', { name: key.name }) });
    const answer = await transport.call('sync:rotate-key', { folderId: key.folders[0] as string, kitPath });
    if (!answer.ok) return setFeedback({ kind: 'error', text: errorText(answer.error) });
    setFeedback({ kind: 'ok', text: t('keys.rotating', { name: key.name, path: kitPath }) });
    onJob?.(answer.value);
  };

  return (
    <section className="panel" aria-labelledby="keys-title">
      <h2 id="keys-title">{t('keys.title')}</h2>
      <p className="muted">{t('keys.intro')}</p>
      {keys.length === 0 ? <p>{t('keys.none')}</p> : null}
      <ul className="key-list">
        {keys.map((key) => (
          <li key={key.name} data-key={key.name}>
            <div>
              <strong>{key.name}</strong> <code title={t('keys.fingerprint')}>{key.fingerprint ?? t('keys.damaged')}</code>
              <span className={key.kitExportedAt === undefined ? 'badge badge-error' : 'badge badge-idle'}>{key.kitExportedAt === undefined ? t('keys.noKit') : t('keys.kitExported', { date: format.date(key.kitExportedAt) })}</span>
              {key.folders.length > 0 ? <span className="muted"> · {t('keys.usedBy', { folders: key.folders.join(', ') })}</span> : null}
            </div>
            <ExportKitForm transport={transport} keyName={key.name} onFeedback={setFeedback} onChanged={onChanged} />
            {key.folders.length === 1 ? (
              <div className="inline-form">
                <label>
                  {t('keys.newKit')}{' '}
                  <input
                    type="text"
                    placeholder={t('keys.newKitPlaceholder')}
                    value={rotationKits[key.name] ?? ''}
                    onChange={(event) => setRotationKits({ ...rotationKits, [key.name]: event.target.value })}
                    aria-label={t('keys.newKitAria', { name: key.name })}
                  />
                </label>
                <button type="button" onClick={() => void rotate(key)} disabled={(rotationKits[key.name] ?? '').trim() === ''} aria-label={t('keys.rotateAria', { name: key.name })}>
                  {t('keys.rotate')}
                </button>
              </div>
            ) : null}
          </li>
        ))}
      </ul>
      <form className="inline-form" onSubmit={(event) => void importKit(event)}>
        <label>
          {t('keys.importAs')}{' '}
          <input type="text" value={importName} onChange={(event) => setImportName(event.target.value)} placeholder={t('keys.namePlaceholder')} aria-label={t('keys.importName')} />
        </label>
        <label>
          {t('keys.fromKit')}{' '}
          <input
            type="text"
            value={importPath}
            onChange={(event) => {
              setImportPath(event.target.value);
              // Another file may be a clear kit: ask again only if the engine says so.
              setImportSealed(false);
              setImportPassphrase('');
            }}
            placeholder={t('keys.importPlaceholder')}
            aria-label={t('keys.importKit')}
          />
        </label>
        {importSealed ? (
          <label>
            {t('keys.kitPassphrase')}{' '}
            <input type="password" autoComplete="off" autoFocus value={importPassphrase} onChange={(event) => setImportPassphrase(event.target.value)} aria-label={t('keys.importPassphrase')} />
          </label>
        ) : null}
        <button type="submit" disabled={importName.trim() === '' || importPath.trim() === '' || (importSealed && importPassphrase === '')}>
          {t('keys.import')}
        </button>
      </form>
      <form className="inline-form" onSubmit={(event) => void generate(event)}>
        <label htmlFor={nameId}>{t('keys.newName')}</label>
        <input id={nameId} type="text" value={name} onChange={(event) => setName(event.target.value)} placeholder={t('keys.namePlaceholder')} />
        <button type="submit" disabled={name.trim() === ''}>
          {t('keys.generate')}
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
  const { t } = useTranslation();
  const tooShort = [...passphrase.normalize('NFC')].length < MIN_NEW_PASSPHRASE_CHARACTERS;
  const mismatch = confirmation !== '' && confirmation !== passphrase;
  const ready = path.trim() !== '' && (!sealed || (!tooShort && confirmation === passphrase));

  const exportKit = async (): Promise<void> => {
    const file = path.trim();
    onFeedback({ kind: 'busy', text: sealed ? t('kit.writingSealed', { name: keyName }) : t('kit.writing', { name: keyName }) });
    const answer = await transport.call('sync:export-kit', { name: keyName, path: file, passphrase: sealed ? passphrase : undefined });
    setPassphrase('');
    setConfirmation('');
    if (!answer.ok) return onFeedback({ kind: 'error', text: errorText(answer.error) });
    onFeedback({
      kind: 'ok',
      text: sealed
        ? t('kit.writtenSealed', { name: keyName, path: file })
        : t('kit.written', { name: keyName, path: file }),
    });
    onChanged();
  };

  return (
    <div className="inline-form">
      <label>
        {t('kit.file')}{' '}
        <input type="text" placeholder={t('kit.filePlaceholder')} value={path} onChange={(event) => setPath(event.target.value)} aria-label={t('kit.fileAria', { name: keyName })} />
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
          aria-label={t('kit.sealAria', { name: keyName })}
        />{' '}
        {t('kit.seal')}
      </label>
      {sealed ? (
        <>
          <label>
            {t('kit.passphrase')}{' '}
            <input type="password" autoComplete="new-password" value={passphrase} onChange={(event) => setPassphrase(event.target.value)} aria-label={t('kit.passphraseAria', { name: keyName })} />
          </label>
          <label>
            {t('kit.again')}{' '}
            <input type="password" autoComplete="new-password" value={confirmation} onChange={(event) => setConfirmation(event.target.value)} aria-label={t('kit.againAria', { name: keyName })} />
          </label>
          {passphrase !== '' && tooShort ? <span className="muted">{t('kit.tooShort', { count: MIN_NEW_PASSPHRASE_CHARACTERS })}</span> : null}
          {mismatch ? <span className="muted" role="alert">{t('kit.mismatch')}</span> : null}
        </>
      ) : null}
      <button type="button" onClick={() => void exportKit()} disabled={!ready} aria-label={t('kit.exportAria', { name: keyName })}>
        {t('kit.export')}
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
  const { t } = useTranslation();
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
    setFeedback(answer.ok ? { kind: 'ok', text: t('ignore.saved') } : { kind: 'error', text: answer.error.message });
  };
  return (
    <section className="panel" aria-labelledby="ignore-title">
      <h2 id="ignore-title">{t('ignore.title')}</h2>
      <div className="toolbar">
        <label>
          {t('common.folder')} <FolderSelect folders={folders} value={current} onChange={setFolderId} label={t('ignore.folder')} />
        </label>
      </div>
      <p className="muted">
        {t('ignore.help')} (<code>*.tmp</code>, <code>build/</code>, <code>!keep.tmp</code>). {t('ignore.builtIn')} {builtIn.map((rule) => <code key={rule}>{rule} </code>)}
      </p>
      <textarea rows={8} value={text ?? ''} disabled={text === undefined} onChange={(event) => setText(event.target.value)} aria-label={t('ignore.fileAria')} spellCheck={false} />
      <div className="form-row">
        <button type="button" onClick={() => void save()} disabled={text === undefined}>
          {t('ignore.save')}
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
  const { t } = useTranslation();
  useEffect(() => {
    setFiles(String(concurrency.files));
    setParts(String(concurrency.parts));
  }, [concurrency.files, concurrency.parts]);
  const save = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const answer = await transport.call('sync:set-concurrency', { files: Number(files), parts: Number(parts) });
    if (!answer.ok) return setFeedback({ kind: 'error', text: errorText(answer.error) });
    setFeedback({ kind: 'ok', text: t('transfers.applied', { files, parts }) });
    onChanged();
  };
  return (
    <section className="panel" aria-labelledby="transfers-title">
      <h2 id="transfers-title">{t('transfers.title')}</h2>
      <form className="inline-form" onSubmit={(event) => void save(event)}>
        <label>
          {t('transfers.files')} <input type="number" min={1} max={64} step={1} value={files} onChange={(event) => setFiles(event.target.value)} aria-label={t('transfers.files')} />
        </label>
        <label>
          {t('transfers.parts')} <input type="number" min={1} max={64} step={1} value={parts} onChange={(event) => setParts(event.target.value)} aria-label={t('transfers.parts')} />
        </label>
        <button type="submit">{t('transfers.apply')}</button>
      </form>
      <p className="muted">{t('transfers.help')}</p>
      <FeedbackLine feedback={feedback} testId="transfers-feedback" />
    </section>
  );
}

/** Desktop-only settings (start at login); nothing in a browser. */
export function DesktopPanel({ transport }: { readonly transport: Transport }) {
  const [startAtLogin, setStartAtLogin] = useState<boolean | undefined>();
  const { t } = useTranslation();
  useEffect(() => {
    void transport.startAtLogin?.(null).then(setStartAtLogin);
  }, [transport]);
  if (transport.startAtLogin === undefined) return null;
  return (
    <section className="panel" aria-labelledby="desktop-title">
      <h2 id="desktop-title">{t('desktop.title')}</h2>
      <label className="radio">
        <input type="checkbox" checked={startAtLogin === true} disabled={startAtLogin === undefined} onChange={(event) => void transport.startAtLogin?.(event.target.checked).then(setStartAtLogin)} /> {t('desktop.startAtLogin')}
      </label>
    </section>
  );
}

const SSE_CHOICES: ReadonlyArray<SseMode> = ['cos', 'kms', 'c', 'none'];

const POLICY_CHOICES: ReadonlyArray<DeletePolicy> = ['keep', 'trash', 'mirror'];

/** One radio button per choice, labelled by the translation `${name}Choice.${choice}`. */
function Choices<T extends string>({ name, value, onChange, choices }: { readonly name: 'sse' | 'policy'; readonly value: T; readonly onChange: (value: T) => void; readonly choices: ReadonlyArray<T> }) {
  const { t } = useTranslation();
  return (
    <>
      {choices.map((choice) => (
        <label key={choice} className="radio">
          <input type="radio" name={name} value={choice} checked={value === choice} onChange={() => onChange(choice)} /> {t(`${name}Choice.${choice as string}`)}
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
export function AddFolderForm({
  transport,
  keys,
  onAdded,
  initial,
}: {
  readonly transport: Transport;
  readonly keys: ReadonlyArray<KeySummary>;
  readonly onAdded: (id: string) => void;
  /** What an earlier step already chose (the first-run flow's store and bucket). */
  readonly initial?: Partial<AddFolderRequest> | undefined;
}) {
  const [form, setForm] = useState<AddFolderRequest>({ ...EMPTY_FORM, ...initial });
  const [feedback, setFeedback] = useState<Feedback>();
  const [connection, setConnection] = useState<Feedback>();
  const { t } = useTranslation();
  const set = <K extends keyof AddFolderRequest>(field: K, value: AddFolderRequest[K]): void => setForm((current) => ({ ...current, [field]: value }));
  const key = keys.find((candidate) => candidate.name === form.keyName);
  const kitMissing = form.sse === 'c' && key !== undefined && key.kitExportedAt === undefined;

  useEffect(() => {
    // The first key is the natural choice for SSE-C.
    if (form.sse === 'c' && form.keyName === undefined && keys[0] !== undefined) set('keyName', keys[0].name);
  }, [form.sse, form.keyName, keys]);

  const testConnection = async (): Promise<void> => {
    setConnection({ kind: 'busy', text: t('add.connecting') });
    const { endpoint, region, bucket, prefix, pathStyle, account } = form;
    const answer = await transport.call('sync:test-connection', { endpoint, region, bucket, prefix, pathStyle, account });
    setConnection(answer.ok ? { kind: 'ok', text: t('add.connected', { description: answer.value.description }) } : { kind: 'error', text: errorText(answer.error) });
  };

  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    setFeedback({ kind: 'busy', text: t('add.checking') });
    const answer = await transport.call('sync:add-folder', { ...form, keyName: form.sse === 'c' ? form.keyName : undefined, kmsKeyId: form.sse === 'kms' ? form.kmsKeyId : undefined });
    if (!answer.ok) return setFeedback({ kind: 'error', text: errorText(answer.error) });
    setFeedback({ kind: 'ok', text: t('add.added', { path: answer.value.localPath }) });
    setForm(EMPTY_FORM);
    onAdded(answer.value.id);
  };

  return (
    <section className="panel" aria-labelledby="add-folder-title">
      <h2 id="add-folder-title">{t('first.addButton')}</h2>
      <form className="grid-form" onSubmit={(event) => void submit(event)}>
        <div className="form-row">
          <label className="grow">
            {t('add.localPath')}
            <input type="text" required value={form.localPath} onChange={(event) => set('localPath', event.target.value)} placeholder={t('add.localPathPlaceholder')} />
          </label>
          {transport.pickFolder !== undefined ? (
            <button type="button" onClick={() => void transport.pickFolder?.().then((path) => path !== undefined && set('localPath', path))}>
              {t('add.choose')}
            </button>
          ) : null}
        </div>
        <label>
          {t('add.endpoint')}
          <input type="text" value={form.endpoint} onChange={(event) => set('endpoint', event.target.value)} placeholder={t('add.endpointPlaceholder')} />
        </label>
        <label>
          {t('add.region')}
          <input type="text" value={form.region ?? ''} onChange={(event) => set('region', event.target.value === '' ? undefined : event.target.value)} placeholder={t('add.regionPlaceholder')} />
        </label>
        <label>
          {t('add.bucket')}
          <input type="text" required value={form.bucket} onChange={(event) => set('bucket', event.target.value)} placeholder={t('add.bucketPlaceholder')} />
        </label>
        <label>
          {t('add.prefix')}
          <input type="text" value={form.prefix} onChange={(event) => set('prefix', event.target.value)} placeholder={t('add.prefixPlaceholder')} />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={form.pathStyle} onChange={(event) => set('pathStyle', event.target.checked)} /> {t('add.pathStyle')}
        </label>
        <label>
          {t('add.account')}
          <input type="text" value={form.account ?? ''} onChange={(event) => set('account', event.target.value === '' ? undefined : event.target.value)} placeholder={t('add.accountPlaceholder')} />
        </label>
        <div className="form-row">
          <button type="button" onClick={() => void testConnection()} disabled={form.bucket.trim() === ''}>
            {t('add.test')}
          </button>
          <FeedbackLine feedback={connection} testId="connection-feedback" />
        </div>
        <fieldset>
          <legend>{t('add.sse')}</legend>
          <Choices name="sse" value={form.sse} onChange={(mode) => set('sse', mode)} choices={SSE_CHOICES} />
          {form.sse === 'kms' ? (
            <label>
              {t('add.kmsKey')}
              <input type="text" value={form.kmsKeyId ?? ''} onChange={(event) => set('kmsKeyId', event.target.value === '' ? undefined : event.target.value)} />
            </label>
          ) : null}
          {form.sse === 'c' ? (
            keys.length === 0 ? (
              <p className="notice notice-warn">{t('add.noKeys')}</p>
            ) : (
              <label>
                {t('add.key')}
                <select value={form.keyName ?? ''} onChange={(event) => set('keyName', event.target.value)} aria-label={t('add.key')}>
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
              {t('add.kitGate', { key: form.keyName })}
            </p>
          ) : null}
        </fieldset>
        <label>
          {t('add.storageClass')}
          <select value={form.storageClass ?? ''} onChange={(event) => set('storageClass', event.target.value === '' ? undefined : event.target.value)} aria-label={t('add.storageClassAria')}>
            <option value="">{t('add.storageDefault')}</option>
            <optgroup label={t('add.storageCos')}>
              {COS_STORAGE_CLASSES.map((storageClass) => (
                <option key={storageClass} value={storageClass}>
                  {storageClass}
                </option>
              ))}
            </optgroup>
            <optgroup label={t('add.storageS3')}>
              {S3_STORAGE_CLASSES.filter((storageClass) => !COS_STORAGE_CLASSES.includes(storageClass)).map((storageClass) => (
                <option key={storageClass} value={storageClass}>
                  {storageClass}
                </option>
              ))}
            </optgroup>
          </select>
        </label>
        <fieldset>
          <legend>{t('add.policy')}</legend>
          <Choices name="policy" value={form.policy} onChange={(policy) => set('policy', policy)} choices={POLICY_CHOICES} />
        </fieldset>
        <div className="form-row">
          <button type="submit" className="primary" disabled={kitMissing || form.localPath.trim() === '' || form.bucket.trim() === '' || (form.sse === 'c' && form.keyName === undefined)}>
            {t('add.submit')}
          </button>
        </div>
      </form>
      <FeedbackLine feedback={feedback} testId="add-folder-feedback" />
    </section>
  );
}
