/**
 * The first run in the window, for someone with no sync folder yet: Where (Tencent COS and its
 * region, or an S3-compatible endpoint) → Sign in (the keys go once, write-only, through
 * sync:credentials-set into the OS keychain; the secret is read from its field at the call and
 * the field is cleared, it is never held in React state) → Bucket (the store's list through
 * sync:list-buckets, with search, or a typed name). The chosen store and bucket then go to the
 * add-folder form for the folder, the encryption and the deletes.
 */
import { useEffect, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { BucketSummary, StoreLocation } from '../../app/contract.js';
import { assertNever } from '../../app/result.js';
import { FeedbackLine, type Feedback } from './settings.js';
import type { Transport } from './transport.js';

/**
 * COS's public regions, by their API names (Regions and Access Endpoints,
 * https://cloud.tencent.com/document/product/436/6224); the window shows each with its city.
 */
export const COS_REGIONS = [
  'ap-guangzhou',
  'ap-shanghai',
  'ap-beijing',
  'ap-nanjing',
  'ap-chengdu',
  'ap-chongqing',
  'ap-hongkong',
  'ap-singapore',
  'ap-jakarta',
  'ap-seoul',
  'ap-bangkok',
  'ap-tokyo',
  'na-siliconvalley',
  'na-ashburn',
  'eu-frankfurt',
  'sa-saopaulo',
] as const;

/** Where the buckets are: COS in a region, or another S3-compatible store at an endpoint. */
type Where = { readonly kind: 'cos'; readonly region: string } | { readonly kind: 's3'; readonly endpoint: string; readonly pathStyle: boolean };

type Step = 'where' | 'sign-in' | 'bucket';

/** What the flow hands to the add-folder form. */
export type ChosenStore = Pick<StoreLocation, 'endpoint' | 'region' | 'bucket' | 'pathStyle'>;

/** The store and bucket the flow ends with, in StoreLocation's terms. */
export function chosenStore(where: Where, bucket: string, bucketRegion: string | undefined): ChosenStore {
  switch (where.kind) {
    case 'cos':
      // COS lists every region's buckets: the bucket's own region wins over the one first chosen.
      return { endpoint: '', region: bucketRegion ?? where.region, bucket, pathStyle: false };
    case 's3':
      return { endpoint: where.endpoint.trim(), region: undefined, bucket, pathStyle: where.pathStyle };
    default:
      return assertNever(where);
  }
}

function StepFrame({ step, title, children, onBack }: { readonly step: Step; readonly title: string; readonly children: ReactNode; readonly onBack: (() => void) | undefined }) {
  const { t } = useTranslation();
  const heading = useRef<HTMLHeadingElement>(null);
  const shown = useRef(false);
  // A new step takes the focus to its heading, so keyboard and screen-reader users start at its
  // top; the first one does not, the window's own focus order comes first when it opens.
  useEffect(() => {
    if (shown.current) heading.current?.focus();
    shown.current = true;
  }, [step]);
  return (
    <section className="panel first-run" aria-labelledby="first-run-title" data-step={step}>
      <p className="muted">{t('firstRun.progress', { step: (['where', 'sign-in', 'bucket'] as const).indexOf(step) + 1, steps: 3 })}</p>
      <h2 id="first-run-title" tabIndex={-1} ref={heading}>
        {title}
      </h2>
      {/* Keyed by step: React must not reuse one step's (uncontrolled) secret field as the next step's input. */}
      <div key={step}>{children}</div>
      {onBack === undefined ? null : (
        <button type="button" onClick={onBack}>
          {t('firstRun.back')}
        </button>
      )}
    </section>
  );
}

/** The first-run flow up to the bucket; `onChosen` gets the store and bucket. */
export function FirstRun({ transport, onChosen }: { readonly transport: Transport; readonly onChosen: (store: ChosenStore) => void }) {
  const { t } = useTranslation();
  const [step, setStep] = useState<Step>('where');
  const [kind, setKind] = useState<Where['kind']>('cos');
  const [region, setRegion] = useState<string>('ap-guangzhou');
  const [endpoint, setEndpoint] = useState('');
  const [pathStyle, setPathStyle] = useState(false);
  const [secretId, setSecretId] = useState('');
  const [signedIn, setSignedIn] = useState<string | undefined>();
  const [feedback, setFeedback] = useState<Feedback>();
  const [buckets, setBuckets] = useState<ReadonlyArray<BucketSummary> | undefined>();
  const [search, setSearch] = useState('');
  const [bucket, setBucket] = useState('');
  // The secret fields are not React state: their values are read once, at the call, then cleared.
  const secretKeyField = useRef<HTMLInputElement>(null);
  const sessionTokenField = useRef<HTMLInputElement>(null);

  const where: Where = kind === 'cos' ? { kind, region } : { kind, endpoint, pathStyle };
  const listRequest = where.kind === 'cos' ? { region: where.region } : { endpoint: where.endpoint.trim(), pathStyle: where.pathStyle };

  const go = (next: Step): void => {
    setFeedback(undefined);
    setStep(next);
  };

  const loadBuckets = async (): Promise<void> => {
    setBuckets(undefined);
    setFeedback({ kind: 'busy', text: t('firstRun.listing') });
    const answer = await transport.call('sync:list-buckets', listRequest);
    if (!answer.ok) return setFeedback({ kind: 'error', text: t('firstRun.listFailed', { reason: answer.error.message }) });
    setFeedback(undefined);
    setBuckets(answer.value);
  };

  const submitWhere = (event: FormEvent): void => {
    event.preventDefault();
    if (kind === 's3' && endpoint.trim() === '') return setFeedback({ kind: 'error', text: t('firstRun.endpointMissing') });
    go('sign-in');
  };

  const submitSignIn = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const keyField = secretKeyField.current;
    const tokenField = sessionTokenField.current;
    const secretKey = keyField?.value ?? '';
    const sessionToken = tokenField?.value ?? '';
    // Cleared before the answer: whatever it says, the secret is no longer on the page.
    if (keyField !== null) keyField.value = '';
    if (tokenField !== null) tokenField.value = '';
    setFeedback({ kind: 'busy', text: t('firstRun.signingIn') });
    const answer = await transport.call('sync:credentials-set', { secretId, secretKey, sessionToken: sessionToken === '' ? undefined : sessionToken });
    if (!answer.ok) return setFeedback({ kind: 'error', text: answer.error.message });
    setSignedIn(answer.value.secretId);
    go('bucket');
    await loadBuckets();
  };

  const submitBucket = (event: FormEvent): void => {
    event.preventDefault();
    const name = bucket.trim();
    if (name === '') return setFeedback({ kind: 'error', text: t('firstRun.bucketMissing') });
    onChosen(chosenStore(where, name, buckets?.find((candidate) => candidate.name === name)?.region));
  };

  switch (step) {
    case 'where':
      return (
        <StepFrame step={step} title={t('firstRun.whereTitle')} onBack={undefined}>
          <form className="grid-form" onSubmit={submitWhere}>
            <fieldset>
              <legend>{t('firstRun.whereLegend')}</legend>
              <label className="radio">
                <input type="radio" name="store-kind" checked={kind === 'cos'} onChange={() => setKind('cos')} /> {t('firstRun.cos')}
              </label>
              <label className="radio">
                <input type="radio" name="store-kind" checked={kind === 's3'} onChange={() => setKind('s3')} /> {t('firstRun.s3')}
              </label>
            </fieldset>
            {kind === 'cos' ? (
              <label>
                {t('firstRun.region')}
                <select value={region} onChange={(event) => setRegion(event.target.value)}>
                  {COS_REGIONS.map((id) => (
                    <option key={id} value={id}>
                      {t('firstRun.regionOption', { city: t(`region.${id}`), id })}
                    </option>
                  ))}
                </select>
              </label>
            ) : (
              <>
                <label>
                  {t('firstRun.endpoint')}
                  <input type="url" value={endpoint} onChange={(event) => setEndpoint(event.target.value)} placeholder={t('firstRun.endpointPlaceholder')} />
                </label>
                <label className="checkbox">
                  <input type="checkbox" checked={pathStyle} onChange={(event) => setPathStyle(event.target.checked)} /> {t('firstRun.pathStyle')}
                </label>
              </>
            )}
            <FeedbackLine feedback={feedback} testId="first-run-feedback" />
            <button type="submit" className="primary">
              {t('firstRun.next')}
            </button>
          </form>
        </StepFrame>
      );
    case 'sign-in':
      return (
        <StepFrame step={step} title={t('firstRun.signInTitle')} onBack={() => go('where')}>
          <p className="hint">
            {kind === 'cos' ? (
              <>
                {t('firstRun.cosKeysHint')}{' '}
                <a href="https://console.cloud.tencent.com/cam/capi" target="_blank" rel="noreferrer">
                  {t('firstRun.cosKeysLink')}
                </a>
              </>
            ) : (
              t('firstRun.s3KeysHint')
            )}
          </p>
          <form className="grid-form" onSubmit={(event) => void submitSignIn(event)}>
            <label>
              {kind === 'cos' ? t('firstRun.secretId') : t('firstRun.accessKey')}
              <input type="text" required autoComplete="off" spellCheck={false} value={secretId} onChange={(event) => setSecretId(event.target.value)} />
            </label>
            <label>
              {kind === 'cos' ? t('firstRun.secretKey') : t('firstRun.secretAccessKey')}
              <input type="password" required autoComplete="off" ref={secretKeyField} />
            </label>
            <label>
              {t('firstRun.sessionToken')}
              <input type="password" autoComplete="off" ref={sessionTokenField} />
            </label>
            <FeedbackLine feedback={feedback} testId="first-run-feedback" />
            <button type="submit" className="primary">
              {t('firstRun.signIn')}
            </button>
          </form>
        </StepFrame>
      );
    case 'bucket': {
      const wanted = search.trim().toLowerCase();
      const shown = (buckets ?? []).filter((candidate) => candidate.name.toLowerCase().includes(wanted));
      return (
        <StepFrame step={step} title={t('firstRun.bucketTitle')} onBack={() => go('sign-in')}>
          {signedIn === undefined ? null : <p className="muted">{t('firstRun.signedIn', { secretId: signedIn })}</p>}
          <form className="grid-form" onSubmit={submitBucket}>
            <label>
              {t('firstRun.search')}
              <input type="search" value={search} onChange={(event) => setSearch(event.target.value)} />
            </label>
            {buckets === undefined ? null : buckets.length === 0 ? (
              <p className="muted">{t('firstRun.noBuckets')}</p>
            ) : (
              <fieldset className="bucket-list">
                <legend>{t('firstRun.buckets', { count: shown.length })}</legend>
                {shown.map((candidate) => (
                  <label key={candidate.name} className="radio">
                    <input type="radio" name="bucket" checked={bucket === candidate.name} onChange={() => setBucket(candidate.name)} /> {candidate.name}
                    {candidate.region === undefined ? null : <span className="muted"> · {candidate.region}</span>}
                  </label>
                ))}
              </fieldset>
            )}
            <label>
              {t('firstRun.bucketTyped')}
              <input type="text" value={bucket} onChange={(event) => setBucket(event.target.value)} spellCheck={false} />
            </label>
            <FeedbackLine feedback={feedback} testId="first-run-feedback" />
            <button type="button" onClick={() => void loadBuckets()}>
              {t('firstRun.reload')}
            </button>
            <button type="submit" className="primary">
              {t('firstRun.next')}
            </button>
          </form>
        </StepFrame>
      );
    }
    default:
      return assertNever(step);
  }
}
