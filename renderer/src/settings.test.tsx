// @vitest-environment jsdom
/** Settings: adding a sync folder (with the SSE-C recovery-kit gate), keys, desktop options. */
import { act, cleanup, configure, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AddFolderRequest, KeySummary } from '../../app/contract.js';
import { FakeTransport, failure, folder, key, ok } from './fake-transport.test-helper.mjs';
import { AddFolderForm, DesktopPanel, KeysPanel, TransfersPanel } from './settings.js';

// Answers arrive asynchronously; a busy machine may need more than the 1 s default to show them.
configure({ asyncUtilTimeout: 5_000 });
afterEach(cleanup);

const type = (label: string | RegExp, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });
const addButton = () => screen.getByRole('button', { name: 'Add folder' }) as HTMLButtonElement;

function renderForm(keys: ReadonlyArray<KeySummary>, transport = new FakeTransport()) {
  const onAdded = vi.fn();
  const view = render(<AddFolderForm transport={transport} keys={keys} onAdded={onAdded} />);
  return { transport, onAdded, view };
}

/** The fields every folder needs. */
function fillBasics(): void {
  type('Local folder', '/home/me/Photos');
  type('Bucket', 'photos-1250000000');
}

describe('AddFolderForm: the recovery-kit gate', () => {
  it('blocks SSE-C with a key whose recovery kit was never exported', () => {
    renderForm([key({ name: 'photos' })]);
    fillBasics();
    expect(screen.queryByTestId('kit-gate')).toBeNull();
    expect(addButton().disabled).toBe(false);

    fireEvent.click(screen.getByLabelText(/SSE-C: your own key/));

    // The first key is chosen for SSE-C, and it has no kit.
    expect((screen.getByLabelText('Key') as HTMLSelectElement).value).toBe('photos');
    const gate = screen.getByTestId('kit-gate');
    expect(gate.textContent).toContain('Key photos has no recovery kit yet');
    expect(gate.getAttribute('role')).toBe('alert');
    expect(addButton().disabled).toBe(true);
  });

  it('opens once a key with an exported kit is chosen', () => {
    renderForm([key({ name: 'photos' }), key({ name: 'docs', kitExportedAt: '2026-02-01T00:00:00.000Z' })]);
    fillBasics();
    fireEvent.click(screen.getByLabelText(/SSE-C: your own key/));
    expect(screen.getByTestId('kit-gate')).toBeTruthy();

    fireEvent.change(screen.getByLabelText('Key'), { target: { value: 'docs' } });
    expect(screen.queryByTestId('kit-gate')).toBeNull();
    expect(addButton().disabled).toBe(false);
  });

  it('opens when the key list comes back with the kit exported', () => {
    const { view, transport, onAdded } = renderForm([key({ name: 'photos' })]);
    fillBasics();
    fireEvent.click(screen.getByLabelText(/SSE-C: your own key/));
    expect(addButton().disabled).toBe(true);

    view.rerender(<AddFolderForm transport={transport} keys={[key({ name: 'photos', kitExportedAt: '2026-02-01T00:00:00.000Z' })]} onAdded={onAdded} />);
    expect(screen.queryByTestId('kit-gate')).toBeNull();
    expect(addButton().disabled).toBe(false);
  });

  it('does not gate other encryption modes', () => {
    renderForm([key({ name: 'photos' })]);
    fillBasics();
    fireEvent.click(screen.getByLabelText(/SSE-C: your own key/));
    fireEvent.click(screen.getByLabelText(/SSE-KMS/));
    expect(screen.queryByTestId('kit-gate')).toBeNull();
    expect(addButton().disabled).toBe(false);
  });

  it('asks for a key first when there is none', () => {
    renderForm([]);
    fillBasics();
    fireEvent.click(screen.getByLabelText(/SSE-C: your own key/));
    expect(screen.getByText(/Generate a key under “Encryption keys” first/)).toBeTruthy();
    expect(addButton().disabled).toBe(true);
  });

  it('needs a local folder and a bucket', () => {
    renderForm([]);
    expect(addButton().disabled).toBe(true);
    type('Local folder', '/home/me/Photos');
    expect(addButton().disabled).toBe(true);
    type('Bucket', '   ');
    expect(addButton().disabled).toBe(true);
    type('Bucket', 'b');
    expect(addButton().disabled).toBe(false);
  });
});

describe('AddFolderForm: adding', () => {
  it('sends sync:add-folder with the form’s values, reports success and resets', async () => {
    const transport = new FakeTransport({ 'sync:add-folder': (request) => ok(folder({ id: 'new-id', localPath: request.localPath })) });
    const { onAdded } = renderForm([key({ name: 'photos', kitExportedAt: '2026-02-01T00:00:00.000Z' })], transport);
    fillBasics();
    type('Endpoint URL', 'https://s3.example.test:8443');
    type('Prefix in the bucket', 'phone/');
    fireEvent.click(screen.getByLabelText(/Path-style addressing/));
    type('Credentials account', 'work');
    fireEvent.click(screen.getByLabelText(/SSE-C: your own key/));
    fireEvent.click(screen.getByLabelText(/Move its copy to .cosync-trash/));

    fireEvent.click(addButton());

    await waitFor(() => expect(onAdded).toHaveBeenCalledWith('new-id'));
    expect(transport.requests('sync:add-folder')).toEqual<AddFolderRequest[]>([
      {
        localPath: '/home/me/Photos',
        endpoint: 'https://s3.example.test:8443',
        region: undefined,
        bucket: 'photos-1250000000',
        prefix: 'phone/',
        pathStyle: true,
        account: 'work',
        sse: 'c',
        keyName: 'photos',
        kmsKeyId: undefined,
        policy: 'trash',
      },
    ]);
    expect(screen.getByTestId('add-folder-feedback').textContent).toBe('Added /home/me/Photos; the first sync has started.');
    expect((screen.getByLabelText('Local folder') as HTMLInputElement).value).toBe('');
  });

  it('sends the KMS key id for SSE-KMS, and no key name', async () => {
    const transport = new FakeTransport({ 'sync:add-folder': () => ok(folder({ id: 'f' })) });
    renderForm([key({ name: 'photos', kitExportedAt: '2026-02-01T00:00:00.000Z' })], transport);
    fillBasics();
    type('COS region', 'ap-guangzhou');
    fireEvent.click(screen.getByLabelText(/SSE-C: your own key/));
    fireEvent.click(screen.getByLabelText(/SSE-KMS/));
    type('KMS key id (optional)', 'kms-123');
    fireEvent.click(addButton());
    await waitFor(() => expect(transport.requests('sync:add-folder')).toHaveLength(1));
    expect(transport.requests('sync:add-folder')[0]).toMatchObject({ sse: 'kms', kmsKeyId: 'kms-123', keyName: undefined, region: 'ap-guangzhou', endpoint: '', policy: 'keep' });
  });

  it('shows the engine’s error message when it refuses, and keeps the form', async () => {
    const transport = new FakeTransport({ 'sync:add-folder': () => failure('Bucket photos-1250000000 does not exist in ap-guangzhou', 'bucket-not-found') });
    const { onAdded } = renderForm([], transport);
    fillBasics();
    fireEvent.click(addButton());

    const feedback = await screen.findByRole('alert');
    expect(feedback.textContent).toBe('Bucket photos-1250000000 does not exist in ap-guangzhou');
    expect(feedback.getAttribute('data-testid')).toBe('add-folder-feedback');
    expect(onAdded).not.toHaveBeenCalled();
    expect((screen.getByLabelText('Local folder') as HTMLInputElement).value).toBe('/home/me/Photos');
  });

  it('tests the connection with the store location only', async () => {
    const transport = new FakeTransport({ 'sync:test-connection': (request) => ok({ description: `${request.bucket} at ${request.endpoint}` }) });
    renderForm([], transport);
    const testButton = screen.getByRole('button', { name: 'Test connection' }) as HTMLButtonElement;
    expect(testButton.disabled).toBe(true);
    fillBasics();
    type('Endpoint URL', 'https://s3.example.test');
    fireEvent.click(testButton);
    expect((await screen.findByTestId('connection-feedback')).textContent).toMatch(/Connected: photos-1250000000 at https:\/\/s3.example.test answers/);
    expect(transport.requests('sync:test-connection')).toEqual([{ endpoint: 'https://s3.example.test', region: undefined, bucket: 'photos-1250000000', prefix: '', pathStyle: false, account: undefined }]);
  });

  it('offers the native folder picker only where there is one', async () => {
    renderForm([]);
    expect(screen.queryByRole('button', { name: 'Choose…' })).toBeNull();
    cleanup();

    const transport = new FakeTransport();
    const withPicker = Object.assign(transport, { pickFolder: vi.fn(async () => '/home/me/Picked') });
    renderForm([], withPicker);
    fireEvent.click(screen.getByRole('button', { name: 'Choose…' }));
    await waitFor(() => expect((screen.getByLabelText('Local folder') as HTMLInputElement).value).toBe('/home/me/Picked'));
  });
});

describe('KeysPanel', () => {
  it('exports a recovery kit with sync:export-kit, the key’s name and the path typed', async () => {
    const transport = new FakeTransport({ 'sync:export-kit': (request) => ok(key({ name: request.name, kitExportedAt: '2026-03-01T00:00:00.000Z' })) });
    const onChanged = vi.fn();
    render(<KeysPanel transport={transport} keys={[key({ name: 'photos' }), key({ name: 'docs', kitExportedAt: '2026-02-01T00:00:00.000Z' })]} onChanged={onChanged} />);
    expect(screen.getByText('No recovery kit yet')).toBeTruthy();
    expect(screen.getAllByText(/^Kit exported/)).toHaveLength(1);

    const exportButton = screen.getByRole('button', { name: 'Export recovery kit of photos' }) as HTMLButtonElement;
    expect(exportButton.disabled).toBe(true);
    type('Recovery kit file for photos', ' /media/usb/photos.kit.json ');
    fireEvent.click(screen.getByLabelText('Seal the kit of photos under a passphrase'));
    expect(screen.queryByLabelText('Kit passphrase for photos')).toBeNull();
    expect(exportButton.disabled).toBe(false);
    fireEvent.click(exportButton);

    await waitFor(() => expect(onChanged).toHaveBeenCalledTimes(1));
    expect(transport.requests('sync:export-kit')).toEqual([{ name: 'photos', path: '/media/usb/photos.kit.json', passphrase: undefined }]);
    expect(screen.getByTestId('keys-feedback').textContent).toContain('Recovery kit of photos written to /media/usb/photos.kit.json. Keep it offline');
  });

  it('offers a sealed kit by default: the passphrase twice, long enough, sent once and then cleared', async () => {
    const transport = new FakeTransport({ 'sync:export-kit': (request) => ok(key({ name: request.name, kitExportedAt: '2026-03-01T00:00:00.000Z' })) });
    const onChanged = vi.fn();
    render(<KeysPanel transport={transport} keys={[key({ name: 'photos' })]} onChanged={onChanged} />);
    expect((screen.getByLabelText('Seal the kit of photos under a passphrase') as HTMLInputElement).checked).toBe(true);
    const exportButton = screen.getByRole('button', { name: 'Export recovery kit of photos' }) as HTMLButtonElement;
    const passphrase = () => screen.getByLabelText('Kit passphrase for photos') as HTMLInputElement;
    const again = () => screen.getByLabelText('Kit passphrase for photos, again') as HTMLInputElement;
    expect(passphrase().type).toBe('password');
    type('Recovery kit file for photos', '/home/me/Drive/photos.kit.json');
    expect(exportButton.disabled).toBe(true);

    type('Kit passphrase for photos', 'short');
    type('Kit passphrase for photos, again', 'short');
    expect(screen.getByText(/at least 8 characters/)).toBeTruthy();
    expect(exportButton.disabled).toBe(true);

    type('Kit passphrase for photos', 'four random words here');
    type('Kit passphrase for photos, again', 'four random words her');
    expect(screen.getByRole('alert').textContent).toBe('The two passphrases differ.');
    expect(exportButton.disabled).toBe(true);

    type('Kit passphrase for photos, again', 'four random words here');
    expect(screen.queryByRole('alert')).toBeNull();
    expect(exportButton.disabled).toBe(false);
    fireEvent.click(exportButton);

    await waitFor(() => expect(onChanged).toHaveBeenCalledTimes(1));
    expect(transport.requests('sync:export-kit')).toEqual([{ name: 'photos', path: '/home/me/Drive/photos.kit.json', passphrase: 'four random words here' }]);
    expect(screen.getByTestId('keys-feedback').textContent).toMatch(/^Sealed recovery kit of photos written to \/home\/me\/Drive\/photos\.kit\.json\. It opens only with its passphrase/);
    expect(passphrase().value).toBe('');
    expect(again().value).toBe('');
    expect(document.body.innerHTML).not.toContain('four random words');
  });

  it('clears the passphrase after a refused sealed export too', async () => {
    const transport = new FakeTransport({ 'sync:export-kit': () => failure('/media/usb/k.json already exists; choose another file or pass --force to replace it', 'usage') });
    render(<KeysPanel transport={transport} keys={[key({ name: 'photos' })]} onChanged={vi.fn()} />);
    type('Recovery kit file for photos', '/media/usb/k.json');
    type('Kit passphrase for photos', 'four random words here');
    type('Kit passphrase for photos, again', 'four random words here');
    fireEvent.click(screen.getByRole('button', { name: 'Export recovery kit of photos' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/already exists/);
    expect((screen.getByLabelText('Kit passphrase for photos') as HTMLInputElement).value).toBe('');
    expect((screen.getByLabelText('Kit passphrase for photos, again') as HTMLInputElement).value).toBe('');
  });

  it('asks for the passphrase when the kit to import is sealed, keeps asking after a wrong one, and forgets it after each call', async () => {
    const transport = new FakeTransport({ 'sync:import-key': () => failure('/media/usb/photos.sealed.json is a sealed recovery kit (key "photos", fingerprint a2l0): give its passphrase to open it', 'kit-passphrase-needed') });
    const onChanged = vi.fn();
    render(<KeysPanel transport={transport} keys={[]} onChanged={onChanged} />);
    const importButton = screen.getByRole('button', { name: 'Import key' }) as HTMLButtonElement;
    expect(screen.queryByLabelText('Passphrase of the sealed kit')).toBeNull();
    type('Name for the imported key', 'photos');
    type('Recovery kit to import', '/media/usb/photos.sealed.json');
    fireEvent.click(importButton);

    const prompt = (await screen.findByLabelText('Passphrase of the sealed kit')) as HTMLInputElement;
    expect(prompt.type).toBe('password');
    expect(screen.getByTestId('keys-feedback').textContent).toBe('/media/usb/photos.sealed.json is a sealed recovery kit: enter the passphrase it was sealed with, then import again.');
    expect(importButton.disabled).toBe(true);

    transport.on('sync:import-key', () => failure('wrong passphrase for the sealed recovery kit /media/usb/photos.sealed.json (key "photos"); nothing was imported', 'kit-passphrase-wrong'));
    type('Passphrase of the sealed kit', 'not it at all');
    fireEvent.click(importButton);
    expect((await screen.findByRole('alert')).textContent).toMatch(/^wrong passphrase for the sealed recovery kit/);
    expect((screen.getByLabelText('Passphrase of the sealed kit') as HTMLInputElement).value).toBe('');
    expect(onChanged).not.toHaveBeenCalled();

    transport.on('sync:import-key', (request) => ok(key({ name: request.name, fingerprint: 'a2l0' })));
    type('Passphrase of the sealed kit', 'four random words here');
    fireEvent.click(importButton);
    await waitFor(() => expect(onChanged).toHaveBeenCalledTimes(1));
    expect(transport.requests('sync:import-key')).toEqual([
      { name: 'photos', kitPath: '/media/usb/photos.sealed.json', passphrase: undefined },
      { name: 'photos', kitPath: '/media/usb/photos.sealed.json', passphrase: 'not it at all' },
      { name: 'photos', kitPath: '/media/usb/photos.sealed.json', passphrase: 'four random words here' },
    ]);
    expect(screen.getByTestId('keys-feedback').textContent).toBe('Key photos imported (fingerprint a2l0).');
    expect(screen.queryByLabelText('Passphrase of the sealed kit')).toBeNull();
    expect(document.body.innerHTML).not.toContain('four random words');
  });

  it('stops asking for a passphrase once another kit file is typed', async () => {
    const transport = new FakeTransport({ 'sync:import-key': () => failure('sealed', 'kit-passphrase-needed') });
    render(<KeysPanel transport={transport} keys={[]} onChanged={vi.fn()} />);
    type('Name for the imported key', 'photos');
    type('Recovery kit to import', '/media/usb/photos.sealed.json');
    fireEvent.click(screen.getByRole('button', { name: 'Import key' }));
    await screen.findByLabelText('Passphrase of the sealed kit');
    type('Recovery kit to import', '/media/usb/photos.kit.json');
    expect(screen.queryByLabelText('Passphrase of the sealed kit')).toBeNull();
    expect((screen.getByRole('button', { name: 'Import key' }) as HTMLButtonElement).disabled).toBe(false);
  });

  it('shows why an export failed and reports no change', async () => {
    const transport = new FakeTransport({ 'sync:export-kit': () => failure('/media/usb is not writable', 'path-unreadable') });
    const onChanged = vi.fn();
    render(<KeysPanel transport={transport} keys={[key({ name: 'photos' })]} onChanged={onChanged} />);
    type('Recovery kit file for photos', '/media/usb/k.json');
    fireEvent.click(screen.getByLabelText('Seal the kit of photos under a passphrase'));
    fireEvent.click(screen.getByRole('button', { name: 'Export recovery kit of photos' }));
    expect((await screen.findByRole('alert')).textContent).toBe('/media/usb is not writable');
    expect(onChanged).not.toHaveBeenCalled();
  });

  it('imports a key from a recovery kit path with sync:import-key, and shows a refusal', async () => {
    const transport = new FakeTransport({ 'sync:import-key': (request) => ok(key({ name: request.name, fingerprint: 'a2l0' })) });
    const onChanged = vi.fn();
    render(<KeysPanel transport={transport} keys={[]} onChanged={onChanged} />);
    const importButton = screen.getByRole('button', { name: 'Import key' }) as HTMLButtonElement;
    expect(importButton.disabled).toBe(true);
    type('Name for the imported key', ' photos ');
    expect(importButton.disabled).toBe(true);
    type('Recovery kit to import', ' /media/usb/photos.kit.json ');
    fireEvent.click(importButton);
    await waitFor(() => expect(onChanged).toHaveBeenCalledTimes(1));
    expect(transport.requests('sync:import-key')).toEqual([{ name: 'photos', kitPath: '/media/usb/photos.kit.json', passphrase: undefined }]);
    expect(screen.getByTestId('keys-feedback').textContent).toBe('Key photos imported (fingerprint a2l0).');

    transport.on('sync:import-key', () => failure('a different key named "photos" already exists', 'key-exists'));
    type('Name for the imported key', 'photos');
    type('Recovery kit to import', '/media/usb/other.kit.json');
    fireEvent.click(importButton);
    expect((await screen.findByRole('alert')).textContent).toBe('a different key named "photos" already exists');
    expect(onChanged).toHaveBeenCalledTimes(1);
  });

  it('rotates the key of the one folder that uses it, reporting the job; keys of several folders or none offer no rotation', async () => {
    const job = { id: 'rotate-1', kind: 'rotate' as const, title: 'Rotate key photos of /home/me/Photos', state: 'running' as const, filesDone: 0, filesFailed: 0, files: 0, bytesDone: 0, bytes: 0, error: undefined, startedAt: 0 };
    const transport = new FakeTransport({ 'sync:rotate-key': () => ok(job) });
    const onJob = vi.fn();
    render(<KeysPanel transport={transport} keys={[key({ name: 'photos', folders: ['photos-1a2b'] }), key({ name: 'shared', folders: ['a', 'b'] }), key({ name: 'spare', folders: [] })]} onChanged={vi.fn()} onJob={onJob} />);
    expect(screen.queryByRole('button', { name: 'Rotate key shared' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Rotate key spare' })).toBeNull();
    const rotate = screen.getByRole('button', { name: 'Rotate key photos' }) as HTMLButtonElement;
    expect(rotate.disabled).toBe(true);
    type('Recovery kit file for the new key of photos', '/media/usb/new.kit.json');
    fireEvent.click(rotate);
    await waitFor(() => expect(onJob).toHaveBeenCalledWith(job));
    expect(transport.requests('sync:rotate-key')).toEqual([{ folderId: 'photos-1a2b', kitPath: '/media/usb/new.kit.json' }]);
    expect(screen.getByTestId('keys-feedback').textContent).toMatch(/Rotating photos: the new key's recovery kit goes to \/media\/usb\/new\.kit\.json first/);
  });

  it('generates a key by name and tells the user to export its kit', async () => {
    const transport = new FakeTransport({ 'sync:generate-key': (request) => ok(key({ name: request.name, fingerprint: 'Zm9vYmFy' })) });
    const onChanged = vi.fn();
    render(<KeysPanel transport={transport} keys={[]} onChanged={onChanged} />);
    const generate = screen.getByRole('button', { name: 'Generate key' }) as HTMLButtonElement;
    expect(generate.disabled).toBe(true);
    type('New key name', ' photos ');
    fireEvent.click(generate);
    await waitFor(() => expect(onChanged).toHaveBeenCalled());
    expect(transport.requests('sync:generate-key')).toEqual([{ name: 'photos' }]);
    expect(screen.getByTestId('keys-feedback').textContent).toMatch(/Key photos created \(fingerprint Zm9vYmFy\)\. Export its recovery kit now/);
    expect((screen.getByLabelText('New key name') as HTMLInputElement).value).toBe('');
  });
});

describe('DesktopPanel', () => {
  it('is absent in a browser', () => {
    const { container } = render(<DesktopPanel transport={new FakeTransport()} />);
    expect(container.innerHTML).toBe('');
  });

  it('shows and changes start-at-login in the desktop app', async () => {
    let enabled = false;
    const startAtLogin = vi.fn(async (wanted: boolean | null) => (wanted === null ? enabled : (enabled = wanted)));
    const transport = Object.assign(new FakeTransport(), { kind: 'electron' as const, startAtLogin });
    render(<DesktopPanel transport={transport} />);
    const box = screen.getByRole('checkbox', { name: /Start cosync when I log in/ }) as HTMLInputElement;
    await waitFor(() => expect(box.disabled).toBe(false));
    expect(box.checked).toBe(false);
    await act(async () => {
      fireEvent.click(box);
    });
    expect(startAtLogin).toHaveBeenLastCalledWith(true);
    expect(box.checked).toBe(true);
  });
});

describe('TransfersPanel', () => {
  it('sends the caps with sync:set-concurrency and shows a refusal', async () => {
    const transport = new FakeTransport({ 'sync:set-concurrency': () => ok(null) });
    const onChanged = vi.fn();
    render(<TransfersPanel transport={transport} concurrency={{ files: 8, parts: 8 }} onChanged={onChanged} />);
    expect((screen.getByLabelText('Files at once') as HTMLInputElement).value).toBe('8');
    type('Files at once', '4');
    type('Requests at once', '12');
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    await waitFor(() => expect(onChanged).toHaveBeenCalledTimes(1));
    expect(transport.requests('sync:set-concurrency')).toEqual([{ files: 4, parts: 12 }]);
    expect(screen.getByTestId('transfers-feedback').textContent).toBe('Up to 4 files and 12 requests at once, from now on.');

    // Out of range: the form itself refuses (min/max), nothing is sent.
    type('Requests at once', '500');
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    expect(transport.requests('sync:set-concurrency')).toHaveLength(1);

    transport.on('sync:set-concurrency', () => failure('cannot write config.json (EACCES)', 'path-unreadable'));
    type('Requests at once', '20');
    fireEvent.click(screen.getByRole('button', { name: 'Apply' }));
    expect((await screen.findByRole('alert')).textContent).toBe('cannot write config.json (EACCES)');
    expect(onChanged).toHaveBeenCalledTimes(1);
  });
});
