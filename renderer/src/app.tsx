/** The first screen: what cosync is, whether the engine answers, and what to do first. */
import { useEffect, useState } from 'react';
import type { Transport } from './transport.js';

type EngineState = { readonly kind: 'checking' } | { readonly kind: 'connected'; readonly version: string } | { readonly kind: 'disconnected'; readonly reason: string };

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
        <p className="engine" role="status" aria-live="polite">
          {engine.kind === 'checking' && 'Connecting to the engine…'}
          {engine.kind === 'connected' && `Engine ${engine.version} ready`}
          {engine.kind === 'disconnected' && engine.reason}
        </p>
      </header>
      <section className="empty-state" aria-labelledby="first-steps">
        <h2 id="first-steps">No sync folders yet</h2>
        <p>Folder sync and drag-and-drop backup are coming to this window. Today, cosync works from the command line:</p>
        <ol>
          <li>
            Create an encryption key and save its recovery kit somewhere safe:
            <code>cosync key generate photos</code>
            <code>cosync key export photos --out photos.kit.json</code>
          </li>
          <li>
            Back up files or folders, encrypted with your key (SSE-C):
            <code>cosync backup ~/Photos --endpoint https://cos.ap-guangzhou.myqcloud.com --bucket examplebucket-1250000000 --key photos</code>
          </li>
          <li>
            Restore them anywhere, checked byte for byte:
            <code>cosync restore --endpoint … --bucket … --prefix Photos --to ~/Restored --key photos</code>
          </li>
        </ol>
      </section>
    </main>
  );
}
