// @vitest-environment jsdom
/** The first-run flow: where, sign in (the secret sent once and cleared), bucket, with Back on every step. */
import { cleanup, configure, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeTransport, failure, ok } from './fake-transport.test-helper.mjs';
import { FirstRun } from './first-run.js';

configure({ asyncUtilTimeout: 5_000 });
afterEach(cleanup);

const SECRET = 'the-secret-key-0123456789';
const type = (label: string | RegExp, value: string) => fireEvent.change(screen.getByLabelText(label), { target: { value } });
const heading = () => screen.getByRole('heading').textContent;

function renderFlow(transport: FakeTransport) {
  const onChosen = vi.fn();
  const view = render(<FirstRun transport={transport} onChosen={onChosen} />);
  return { onChosen, view };
}

function transportWithBuckets(): FakeTransport {
  return new FakeTransport()
    .on('sync:credentials-set', () => ok({ account: 'default', secretId: 'AKID…cdef' }))
    .on('sync:list-buckets', () =>
      ok([
        { name: 'photos-1250000000', region: 'ap-shanghai', createdAt: undefined },
        { name: 'work-1250000000', region: 'ap-guangzhou', createdAt: undefined },
      ]),
    );
}

describe('FirstRun', () => {
  it('goes from COS and its region to signed in to a bucket from the list, the region following the bucket', async () => {
    const transport = transportWithBuckets();
    const { onChosen, view } = renderFlow(transport);
    expect(heading()).toBe('Where are your files to go?');
    expect(screen.getByRole('option', { name: 'Guangzhou (ap-guangzhou)' })).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Region'), { target: { value: 'ap-beijing' } });
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));

    expect(heading()).toBe('Sign in');
    expect(screen.getByRole('link', { name: 'Open API keys' }).getAttribute('href')).toBe('https://console.cloud.tencent.com/cam/capi');
    type('SecretId', 'AKIDexample0000cdef');
    type('SecretKey', SECRET);
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));

    await screen.findByText('Signed in as AKID…cdef; the keys are in the system keychain.');
    expect(heading()).toBe('Choose a bucket');
    expect(transport.calls.find((call) => call.channel === 'sync:credentials-set')?.request).toEqual({ secretId: 'AKIDexample0000cdef', secretKey: SECRET, sessionToken: undefined });
    expect(transport.calls.find((call) => call.channel === 'sync:list-buckets')?.request).toEqual({ region: 'ap-beijing' });
    // The secret left with the call: not in the page, not in any field.
    expect(view.container.innerHTML).not.toContain(SECRET);

    await screen.findByText('2 buckets');
    type('Search buckets', 'PHO');
    expect(screen.queryByLabelText(/work-1250000000/)).toBeNull();
    fireEvent.click(screen.getByLabelText(/photos-1250000000/));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(onChosen).toHaveBeenCalledWith({ endpoint: '', region: 'ap-shanghai', bucket: 'photos-1250000000', pathStyle: false });
  });

  it('takes an S3 endpoint, keeps what was typed on Back, and accepts a typed bucket when listing fails', async () => {
    const transport = transportWithBuckets().on('sync:list-buckets', () => failure('Access Denied: the keys may not list buckets', 'access-denied'));
    const { onChosen } = renderFlow(transport);
    fireEvent.click(screen.getByLabelText('Another S3-compatible store'));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(screen.getByTestId('first-run-feedback').textContent).toMatch(/Enter the endpoint URL/);
    type('Endpoint URL', 'https://s3.example.com');
    fireEvent.click(screen.getByLabelText(/Path-style addressing/));
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));

    type('Access key', 'AKIAEXAMPLE');
    fireEvent.click(screen.getByRole('button', { name: 'Back' }));
    expect((screen.getByLabelText('Endpoint URL') as HTMLInputElement).value).toBe('https://s3.example.com');
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect((screen.getByLabelText('Access key') as HTMLInputElement).value).toBe('AKIAEXAMPLE');
    type('Secret key', SECRET);
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));

    await waitFor(() => expect(screen.getByTestId('first-run-feedback').textContent).toBe('The buckets could not be listed: Access Denied: the keys may not list buckets You can still type a bucket name.'));
    expect(transport.calls.find((call) => call.channel === 'sync:list-buckets')?.request).toEqual({ endpoint: 'https://s3.example.com', pathStyle: true });
    type('Bucket name', 'backups');
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    expect(onChosen).toHaveBeenCalledWith({ endpoint: 'https://s3.example.com', region: undefined, bucket: 'backups', pathStyle: true });
  });

  it('clears the secret even when the engine refuses it, and says why', async () => {
    const transport = new FakeTransport().on('sync:credentials-set', () => failure('the keychain is locked: unlock it and try again', 'keychain-unavailable'));
    renderFlow(transport);
    fireEvent.click(screen.getByRole('button', { name: 'Next' }));
    type('SecretId', 'AKIDexample0000cdef');
    type('SecretKey', SECRET);
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByTestId('first-run-feedback').textContent).toBe('the keychain is locked: unlock it and try again'));
    expect(heading()).toBe('Sign in');
    expect((screen.getByLabelText('SecretKey') as HTMLInputElement).value).toBe('');
    expect((screen.getByLabelText('SecretId') as HTMLInputElement).value).toBe('AKIDexample0000cdef');
  });
});
