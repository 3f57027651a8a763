/**
 * The one API contract between the engine and any UI (Electron preload bridge or the headless
 * daemon's HTTP/WebSocket bridge). Every channel carries the `sync:` prefix; each has a request
 * type, a response type, and a validator that the main side runs before doing any work.
 *
 * To add a request channel: add it to ContractChannels, give it a validator in
 * REQUEST_VALIDATORS (the compiler insists), a method on CosyncBridge, and a handler in
 * main/electron/main.ts.
 */
import type { Result } from './result.js';

/** Channel → request/response types. */
export interface ContractChannels {
  /** The engine's version. */
  'sync:version': { readonly request: null; readonly response: string };
}

/** Every channel name. */
export type Channel = keyof ContractChannels;

/** The request type of a channel. */
export type RequestOf<C extends Channel> = ContractChannels[C]['request'];

/** What a channel answers: a Result, because thrown errors lose everything but their message across IPC. */
export type ResponseOf<C extends Channel> = Result<ContractChannels[C]['response']>;

/** The outcome of validating an untrusted payload. */
export type Validation<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly reason: string };

/** Validates an untrusted payload; returns the typed request or a reason it is invalid. */
export type PayloadValidator<C extends Channel> = (payload: unknown) => Validation<RequestOf<C>>;

/** Validators for every channel (a missing entry is a compile error). */
export const REQUEST_VALIDATORS: { readonly [C in Channel]: PayloadValidator<C> } = {
  'sync:version': (payload) => (payload === null || payload === undefined ? { ok: true, value: null } : { ok: false, reason: 'sync:version takes no payload' }),
};

/** True for strings that name a channel of the contract. */
export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(REQUEST_VALIDATORS, name);
}

/**
 * What the Electron preload exposes to the renderer as `window.cosync`: one method per request
 * channel, each answering a Result. The renderer's transports implement the same calls.
 */
export interface CosyncBridge {
  /** Asks `sync:version`. */
  version(): Promise<ResponseOf<'sync:version'>>;
}
