/** Renderer entry: picks the transport and mounts the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { selectTransport } from './transport.js';
import './styles.css';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App transport={selectTransport(window as { cosync?: unknown })} />
  </StrictMode>,
);
