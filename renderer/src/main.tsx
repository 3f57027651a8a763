/** Renderer entry: picks the transport and mounts the app. */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App, isView } from './app.js';
import { selectTransport } from './transport.js';
import './styles.css';

// A view named in the address (#files) opens first: for links, reloads and the UI benchmark.
const requestedView = location.hash.slice(1);
const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App transport={selectTransport(window as Window & { cosync?: unknown })} initialView={isView(requestedView) ? requestedView : 'folders'} />
  </StrictMode>,
);
