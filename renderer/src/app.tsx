/** The first screen: what cosync is, whether the engine answers, and what to do first. */
import { useEffect, useState } from 'react';
import { assertNever } from '../../app/result.js';
import type { Transport } from './transport.js';

/** Whether the UI has reached the engine. */
export type EngineState =
  | { readonly kind: 'checking' }
  | { readonly kind: 'connected'; readonly version: string }
  | { readonly kind: 'disconnected'; readonly reason: string };

const REGION = 'ap-guangzhou';
const BUCKET = 'examplebucket-1250000000';

/** The first steps, as the headless CLI does them today. */
const FIRST_STEPS: ReadonlyArray<{ readonly id: string; readonly text: string; readonly commands: ReadonlyArray<string> }> = [
  {
    id: 'credentials',
    text: 'Store your COS SecretId and SecretKey (or S3 access keys) in the system keychain. The secret key is read from standard input.',
    commands: ['cosync credentials set --secret-id YOUR_SECRET_ID < secret-key.txt'],
  },
  {
    id: 'key',
    text: 'Create an encryption key, then save its recovery kit somewhere safe and offline. Without the kit, a lost key means lost data.',
    commands: ['cosync key generate photos', 'cosync key export photos --out photos.kit.json'],
  },
  {
    id: 'backup',
    text: 'Back up a folder. Every object is encrypted on the server with your key (SSE-C).',
    commands: [`cosync backup ~/Photos --region ${REGION} --bucket ${BUCKET} --key photos`],
  },
  {
    id: 'restore',
    text: 'Restore it anywhere. Each file is checked against the digest recorded at upload.',
    commands: [`cosync restore --region ${REGION} --bucket ${BUCKET} --prefix Photos --to ~/Restored --key photos`],
  },
];

/** One line saying whether the engine answered. */
export function EngineStatus({ state }: { readonly state: EngineState }) {
  switch (state.kind) {
    case 'checking':
      return <p className="engine engine-checking">Connecting to the engine…</p>;
    case 'connected':
      return <p className="engine engine-connected">Connected to engine {state.version}</p>;
    case 'disconnected':
      return <p className="engine engine-disconnected">{state.reason}</p>;
    default:
      return assertNever(state);
  }
}

/** The app shell. */
export function App({ transport }: { readonly transport: Transport }) {
  const [engine, setEngine] = useState<EngineState>({ kind: 'checking' });

  useEffect(() => {
    let live = true;
    void transport.version().then((result) => {
      if (!live) return;
      setEngine(result.ok ? { kind: 'connected', version: result.value } : { kind: 'disconnected', reason: result.error.message });
    });
    return () => {
      live = false;
    };
  }, [transport]);

  return (
    <main className="app" aria-labelledby="title">
      <header className="app-header">
        <h1 id="title">cosync</h1>
        <p className="tagline">Encrypted backup of your folders to Tencent COS and S3-compatible storage.</p>
        <div role="status" aria-live="polite" aria-label="Engine connection">
          <EngineStatus state={engine} />
        </div>
      </header>
      <section className="empty-state" aria-labelledby="first-steps">
        <h2 id="first-steps">No sync folders yet</h2>
        <p>
          This window will show your sync folders and let you drop files in to back them up, but it cannot do that yet. For now, cosync works
          from the command line. To get started:
        </p>
        <ol className="steps">
          {FIRST_STEPS.map((step) => (
            <li key={step.id}>
              <p>{step.text}</p>
              <pre aria-label={`Command${step.commands.length > 1 ? 's' : ''} for this step`}>
                <code>{step.commands.join('\n')}</code>
              </pre>
            </li>
          ))}
        </ol>
        <p className="hint">
          Run <code>cosync --help</code> to see every option, including other S3-compatible stores (<code>--endpoint URL</code>) and
          COS-managed keys (<code>--sse cos</code>).
        </p>
      </section>
    </main>
  );
}
