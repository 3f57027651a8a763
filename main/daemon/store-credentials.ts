/**
 * Store credentials for the window's first run and `cosync credentials set|delete` alike: keep them in
 * the OS keychain (write-only: only the masked SecretId comes back), forget them, and list the
 * buckets they can see.
 */
import type { BucketListRequest, BucketSummary, CredentialsRequest } from '../../app/contract.js';
import { CosyncError } from '../../app/result.js';
import { cosEndpointForRegion, parseEndpoint } from '../../app/target.js';
import { credentialsFor, type Session } from '../engine/session.js';
import { COS_SERVICE_ENDPOINT, listBuckets } from '../remote/list-buckets.js';
import { DEFAULT_ACCOUNT } from '../secrets/keychain.js';
import { StoreCredentials } from '../secrets/secret-values.js';

/** Stores credentials under an account, as `cosync credentials set` does; answers the SecretId masked. */
export async function setStoreCredentials(session: Session, request: CredentialsRequest): Promise<{ account: string; secretId: string }> {
  const account = request.account ?? DEFAULT_ACCOUNT;
  const credentials = new StoreCredentials(request.secretId.trim(), request.secretKey.trim(), request.sessionToken?.trim());
  await session.keychain.setCredentials(account, credentials);
  // StoreCredentials logs as its masked id (secret-values.ts), never the secret.
  session.logger.log('info', 'credentials-set', { account, credentials });
  return { account, secretId: credentials.abbreviatedId };
}

/** Removes an account's credentials from the keychain. */
export async function deleteStoreCredentials(session: Session, account: string | undefined): Promise<void> {
  const name = account ?? DEFAULT_ACCOUNT;
  if (!(await session.keychain.deleteCredentials(name))) throw new CosyncError('credentials-missing', `no credentials stored for account ${name}`);
  session.logger.log('info', 'credentials-deleted', { account: name });
}

/**
 * The buckets the account can see. A COS region lists every region's buckets through COS's
 * account-wide GET Service host (signed for that region); an endpoint lists that store's.
 */
export async function listStoreBuckets(session: Session, request: BucketListRequest): Promise<BucketSummary[]> {
  const credentials = await credentialsFor(session, request.account);
  if (request.endpoint !== undefined) {
    return listBuckets(parseEndpoint(request.endpoint.trim()), { region: request.region, pathStyle: request.pathStyle }, credentials, { environment: session.io.env });
  }
  if (request.region === undefined) throw new CosyncError('usage', 'say where to list buckets: a COS region (e.g. ap-guangzhou) or the endpoint URL of an S3-compatible store');
  // Checks the region's name the way a folder's endpoint would be checked.
  cosEndpointForRegion(request.region);
  return listBuckets(COS_SERVICE_ENDPOINT, { region: request.region }, credentials, { environment: session.io.env });
}
