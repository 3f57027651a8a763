/**
 * IPC handlers wired to the contract: every handler checks that the sender is the app's own
 * renderer and validates the payload before any work, and answers with a Result value.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { answerRequest, type Channel, type ChannelHandler, type ResponseOf } from '../../app/contract.js';
import { err } from '../../app/result.js';

/** Decides whether an IPC message comes from the app's own renderer page. */
export type SenderCheck = (senderUrl: string) => boolean;

/** Trusts exactly the renderer's own `file://` page (any query or hash), nothing else. */
export function trustedFileSender(rendererUrl: string): SenderCheck {
  const expected = new URL(rendererUrl);
  if (expected.protocol !== 'file:') throw new Error(`the renderer must be a file:// page, not ${rendererUrl}`);
  return (senderUrl) => {
    // URL.canParse is Node 19.9+ and Chromium 120+; both hold here, and it saves a try/catch.
    if (!URL.canParse(senderUrl)) return false;
    const actual = new URL(senderUrl);
    return actual.protocol === 'file:' && actual.host === expected.host && actual.pathname === expected.pathname;
  };
}

/**
 * Registers one validated handler. Electron keeps only the message of an Error thrown from a
 * handler, so failures are returned as `{ ok: false, error: { code, message } }` instead.
 */
export function handle<C extends Channel>(ipcMain: Pick<IpcMain, 'handle'>, channel: C, isTrusted: SenderCheck, work: ChannelHandler<C>): void {
  ipcMain.handle(channel, async (event: IpcMainInvokeEvent, payload: unknown): Promise<ResponseOf<C>> => {
    // senderFrame is null when the frame has navigated away or been destroyed: refuse those too.
    const senderUrl = event.senderFrame?.url ?? '';
    if (!isTrusted(senderUrl)) {
      return err({ code: 'access-denied', message: `${channel} refused: the request did not come from cosync's own window` });
    }
    return answerRequest(channel, payload, work);
  });
}
