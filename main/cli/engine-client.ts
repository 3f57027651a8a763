/**
 * Talking to the engine `cosync serve` runs, from other CLI invocations (`cosync pause`,
 * `folder pause`): its address and token come from the engine record it keeps in the state
 * folder (engine-lock.ts), and the calls are the same contract the window uses.
 */
import type { Channel, ContractChannels, RequestOf, ResponseOf } from '../../app/contract.js';
import { CosyncError } from '../../app/result.js';
import { runningEngine, type EngineRecord } from '../engine/engine-lock.js';

/** The running `serve` engine with an API, if any. */
export function reachableEngine(stateDir: string): (EngineRecord & { url: string; token: string }) | undefined {
  const record = runningEngine(stateDir);
  return record?.url !== undefined && record.token !== undefined ? (record as EngineRecord & { url: string; token: string }) : undefined;
}

/** Calls a channel of the running engine; its error comes back as a CosyncError. */
export async function callEngine<C extends Channel>(engine: { url: string; token: string }, channel: C, request: RequestOf<C>): Promise<ContractChannels[C]['response']> {
  let answer: ResponseOf<C>;
  try {
    const response = await fetch(new URL(`/api/call/${channel}`, engine.url), {
      method: 'POST',
      headers: { authorization: `Bearer ${engine.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(request),
      signal: AbortSignal.timeout(10_000),
    });
    answer = (await response.json()) as ResponseOf<C>;
  } catch (error) {
    throw new CosyncError('endpoint-unreachable', `the running cosync engine (${engine.url.replace(/\?token=.*/, '')}) did not answer: ${(error as Error).message}`);
  }
  if (!answer.ok) throw new CosyncError(answer.error.code, answer.error.message);
  return answer.value;
}
