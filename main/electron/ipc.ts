/**
 * IPC handlers wired to the contract: every handler checks that the sender is the app's own
 * renderer and validates the payload before any work, and answers with a Result value.
 */
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import { REQUEST_VALIDATORS, type Channel, type ContractChannels, type RequestOf, type ResponseOf } from '../../app/contract.js';
import { CosyncError, err, ok } from '../../app/result.js';

/** The work behind a channel. */
export type ChannelHandler<C extends Channel> = (request: RequestOf<C>) => Promise<ContractChannels[C]['response']>;

/** Decides whether an IPC message comes from the app's own renderer page. */
export type SenderCheck = (senderUrl: string) => boolean;

/** Trusts exactly the renderer's own file (any query or hash), nothing else. */
export function trustedFileSender(rendererUrl: string): SenderCheck {
  const expected = new URL(rendererUrl);
  return (senderUrl) => {
    try {
      const actual = new URL(senderUrl);
      return actual.protocol === expected.protocol && actual.host === expected.host && actual.pathname === expected.pathname;
    } catch {
      return false;
    }
  };
}

/** Registers one validated handler. */
export function handle<C extends Channel>(ipcMain: Pick<IpcMain, 'handle'>, channel: C, isTrusted: SenderCheck, work: ChannelHandler<C>): void {
  ipcMain.handle(channel, async (event: IpcMainInvokeEvent, payload: unknown): Promise<ResponseOf<C>> => {
    const senderUrl = event.senderFrame?.url ?? '';
    if (!isTrusted(senderUrl)) {
      return err({ code: 'access-denied', message: `${channel} refused: the request did not come from cosync's own window` });
    }
    const validated = REQUEST_VALIDATORS[channel](payload);
    if (!validated.ok) return err({ code: 'usage', message: `${channel}: invalid request (${validated.reason})` });
    try {
      return ok(await work(validated.value));
    } catch (error) {
      return err(error instanceof CosyncError ? error.toInfo() : { code: 'internal', message: (error as Error).message });
    }
  });
}
