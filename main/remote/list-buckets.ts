/**
 * The buckets a pair of keys can see: GET Service (S3 ListBuckets) at a store's root, for the
 * first-run window's bucket list. On Tencent COS, GET Service at `service.cos.myqcloud.com`
 * lists the requester's buckets of every region, each with its `<Location>`; at
 * `cos.REGION.myqcloud.com` only that region's (GET Service (List Buckets),
 * https://cloud.tencent.com/document/product/436/8291). S3-compatible stores answer the same
 * `ListAllMyBucketsResult`, with `<BucketRegion>` where they know it.
 */
import type { BucketSummary } from '../../app/contract.js';
import { addressingFor, parseEndpoint, type Dialect, type Endpoint } from '../../app/target.js';
import type { StoreCredentials } from '../secrets/secret-values.js';
import { LeanPutClient, xmlBlocks, xmlText } from './lean-put.js';
import { agentFor } from './proxy.js';
import { toCosyncError } from './remote-errors.js';

/** COS's account-wide GET Service host (436/8291). */
export const COS_SERVICE_ENDPOINT: Endpoint = parseEndpoint('https://service.cos.myqcloud.com');

/** Pages at most, so a store that keeps saying "truncated" cannot loop forever. */
const MAX_PAGES = 100;

/**
 * Every bucket these credentials can list at `endpoint`. COS pages with `marker` and answers
 * `NextMarker`; S3 pages with `continuation-token` and answers `ContinuationToken`.
 */
export async function listBuckets(
  endpoint: Endpoint,
  requested: { readonly region?: string | undefined; readonly pathStyle?: boolean | undefined; readonly dialect?: Dialect | undefined },
  credentials: StoreCredentials,
  options: { readonly environment?: NodeJS.ProcessEnv; readonly signal?: AbortSignal | undefined; readonly timeoutMs?: number } = {},
): Promise<BucketSummary[]> {
  const { region, dialect } = addressingFor(endpoint, requested);
  const { agent, proxy } = agentFor(new URL(endpoint.url), { keepAlive: false }, options.environment ?? process.env);
  // No bucket and path-style: the request goes to "/" on the endpoint's own host.
  const client = new LeanPutClient(
    { protocol: endpoint.protocol, host: endpoint.host, port: endpoint.port, bucket: '', region, pathStyle: true, dialect },
    () => credentials.signing(),
    agent,
    options.timeoutMs ?? 30_000,
  );
  const buckets: BucketSummary[] = [];
  try {
    let query: Record<string, string> = {};
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const xml = await client.getBucket(query, options.signal);
      for (const block of xmlBlocks(xml, 'Bucket')) {
        const name = xmlText(block, 'Name');
        if (name !== undefined) buckets.push({ name, region: xmlText(block, 'Location') ?? xmlText(block, 'BucketRegion'), createdAt: xmlText(block, 'CreationDate') });
      }
      const next = xmlText(xml, 'IsTruncated') === 'true' ? (xmlText(xml, 'NextMarker') ?? xmlText(xml, 'ContinuationToken')) : undefined;
      if (next === undefined || next === '') break;
      query = dialect === 'cos' ? { marker: next } : { 'continuation-token': next };
    }
  } catch (error) {
    throw toCosyncError(error, { endpoint: endpoint.url, bucket: '(bucket list)', operation: 'bucket listing', proxy });
  } finally {
    agent.destroy();
  }
  return buckets.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
