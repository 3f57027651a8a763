/** GET Service on the wire: the request at the store's root, COS's and S3's answers and pages read. */
import { afterEach, expect, it } from 'vitest';
import { parseEndpoint } from '../../app/target.js';
import { startRecordingServer, type ResponseScript } from '../../test/support/recording-server.js';
import { StoreCredentials } from '../secrets/secret-values.js';
import { listBuckets } from './list-buckets.js';

let server: Awaited<ReturnType<typeof startRecordingServer>> | undefined;
afterEach(async () => {
  await server?.close();
});

const xml = (status: number, body: string) => ({ status, headers: { 'content-type': 'application/xml' }, body });
const credentials = new StoreCredentials('AKIDtest', 'secret');

async function serve(script: ResponseScript): Promise<string> {
  server = await startRecordingServer(() => ({}), script);
  return server.url;
}

it('reads COS buckets of every region with their Location, page by page from NextMarker', async () => {
  // The shape of COS's GET Service answer (https://cloud.tencent.com/document/product/436/8291).
  const url = await serve((request) =>
    request.query.get('marker') === null
      ? xml(200, '<ListAllMyBucketsResult><Owner><ID>qcs::cam::uin/1:uin/1</ID></Owner><Buckets><Bucket><Name>work-1250000000</Name><Location>ap-guangzhou</Location><CreationDate>2026-01-02T03:04:05Z</CreationDate></Bucket></Buckets><IsTruncated>true</IsTruncated><NextMarker>work-1250000000</NextMarker></ListAllMyBucketsResult>')
      : xml(200, '<ListAllMyBucketsResult><Buckets><Bucket><Name>photos-1250000000</Name><Location>ap-shanghai</Location></Bucket></Buckets><IsTruncated>false</IsTruncated></ListAllMyBucketsResult>'),
  );
  const buckets = await listBuckets(parseEndpoint(url), { region: 'ap-beijing', dialect: 'cos' }, credentials);
  expect(buckets).toEqual([
    { name: 'photos-1250000000', region: 'ap-shanghai', createdAt: undefined },
    { name: 'work-1250000000', region: 'ap-guangzhou', createdAt: '2026-01-02T03:04:05Z' },
  ]);
  const requests = server?.requests ?? [];
  expect(requests.map((request) => `${request.method} ${request.path}?${request.query.toString()}`)).toEqual(['GET /?', 'GET /?marker=work-1250000000']);
  // Signed for the region asked, with the secret nowhere in the request.
  expect(requests[0]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDtest\/\d{8}\/ap-beijing\/s3\/aws4_request/);
  expect(JSON.stringify(requests.map((request) => request.headers))).not.toContain('secret');
});

it('says what the store refused, with its reason', async () => {
  const url = await serve(() => xml(403, '<Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>'));
  await expect(listBuckets(parseEndpoint(url), { pathStyle: true }, credentials)).rejects.toMatchObject({ code: 'access-denied' });
});
