/**
 * The COS header dialect on top of the AWS SDK's S3 requests.
 *
 * COS names its encryption and metadata headers `x-cos-…` where S3 says `x-amz-…`, and its KMS
 * is `cos/kms` rather than `aws:kms`. The SDK builds S3 requests; these middlewares rename the
 * headers before signing (so the signature covers what is sent) and rename COS's response headers
 * back before the SDK parses them (so SSE-C key MD5 echoes and metadata are seen).
 * Tencent's own SDK drops the SSE-C key on multipart parts; here every request carries it.
 *
 * Where COS's values differ from S3's, not only its names, the source is cited beside the rename.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DeserializeHandler, DeserializeHandlerArguments, DeserializeHandlerOutput } from '@smithy/types';
import type { Dialect } from '../../app/target.js';

/**
 * The header that carries the session token of temporary credentials: COS reads
 * `x-cos-security-token` (common request headers, https://cloud.tencent.com/document/product/436/7728;
 * cos-nodejs-sdk-v5 sdk/base.js sends the STS token under that name) and refuses an expired one
 * with ExpiredToken; S3 reads `x-amz-security-token`. Either is signed with the request.
 */
export function securityTokenHeader(dialect: Dialect): string {
  return dialect === 'cos' ? 'x-cos-security-token' : 'x-amz-security-token';
}

const REQUEST_RENAMES: ReadonlyArray<[string, string]> = [
  ['x-amz-security-token', securityTokenHeader('cos')],
  ['x-amz-metadata-directive', 'x-cos-metadata-directive'],
  ['x-amz-storage-class', 'x-cos-storage-class'],
  // The copy source's SSE-C key, range (UploadPartCopy) and conditions.
  ['x-amz-copy-source-', 'x-cos-copy-source-'],
  ['x-amz-server-side-encryption-aws-kms-key-id', 'x-cos-server-side-encryption-cos-kms-key-id'],
  ['x-amz-server-side-encryption', 'x-cos-server-side-encryption'],
  ['x-amz-meta-', 'x-cos-meta-'],
];

/**
 * COS's values of `x-cos-metadata-directive`: `Copy` or `Replaced`, and any other value is refused
 * with InvalidArgument (PUT Object - Copy, https://cloud.tencent.com/document/product/436/10881;
 * cos-python-sdk-v5 qcloud_cos/cos_client.py copy_object raises "CopyStatus must be Copy or
 * Replaced"). S3 says COPY and REPLACE.
 */
const COS_METADATA_DIRECTIVES: Readonly<Record<string, string>> = { COPY: 'Copy', REPLACE: 'Replaced' };

/** A request header's value in COS's terms. */
function cosValue(s3Name: string, value: string): string {
  if (s3Name === 'x-amz-server-side-encryption' && value === 'aws:kms') return 'cos/kms';
  if (s3Name === 'x-amz-metadata-directive') return COS_METADATA_DIRECTIVES[value.toUpperCase()] ?? value;
  return value;
}

/**
 * Renames S3 request headers to their COS names and values (`aws:kms` → `cos/kms`, `COPY` →
 * `Copy`, `REPLACE` → `Replaced`). COS names a copy source by host,
 * `BUCKET-APPID.cos.REGION.myqcloud.com/KEY` where S3 says `BUCKET/KEY`; `copySourceHost` is
 * that host (cosCopySourceHost), built from the bucket and region, never from the request's host.
 */
export function toCosRequestHeaders(headers: Readonly<Record<string, string>>, copySourceHost: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'x-amz-copy-source') {
      result['x-cos-copy-source'] = `${copySourceHost}${value.slice(value.indexOf('/'))}`;
      continue;
    }
    const rename = REQUEST_RENAMES.find(([from]) => lower.startsWith(from));
    if (rename === undefined) {
      result[name] = value;
      continue;
    }
    result[rename[1] + lower.slice(rename[0].length)] = cosValue(lower, value);
  }
  return result;
}

/** Renames COS response headers to the S3 names the SDK's parser knows. */
export function fromCosResponseHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const result: Record<string, string> = { ...headers };
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower.startsWith('x-cos-server-side-encryption')) {
      const s3Name = `x-amz-server-side-encryption${lower.slice('x-cos-server-side-encryption'.length)}`.replace('-cos-kms-key-id', '-aws-kms-key-id');
      result[s3Name] = lower === 'x-cos-server-side-encryption' && value === 'cos/kms' ? 'aws:kms' : value;
    } else if (lower.startsWith('x-cos-meta-')) {
      result[`x-amz-meta-${lower.slice('x-cos-meta-'.length)}`] = value;
    } else if (lower === 'x-cos-storage-class') {
      result['x-amz-storage-class'] = value;
    } else if (lower === 'x-cos-restore') {
      result['x-amz-restore'] = value;
    }
  }
  return result;
}

/**
 * Installs the COS dialect on an S3 client. The SDK's signer would add a session token as
 * `x-amz-security-token`, so with the COS dialect the client's credentials carry none and
 * `sessionToken` supplies it here, before signing, as `x-cos-security-token`.
 */
export function useCosDialect(client: S3Client, copySourceHost: string, sessionToken: () => Promise<string | undefined>): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers !== undefined) {
        request.headers = toCosRequestHeaders(request.headers, copySourceHost);
        const token = await sessionToken();
        if (token !== undefined) request.headers[securityTokenHeader('cos')] = token;
      }
      return next(args);
    },
    // Build runs before finalizeRequest, where SigV4 signs the headers as they are now.
    { step: 'build', name: 'cosyncCosRequestHeaders', priority: 'low' },
  );
  client.middlewareStack.addRelativeTo(
    <Output extends object>(next: DeserializeHandler<object, Output>) =>
      async (args: DeserializeHandlerArguments<object>): Promise<DeserializeHandlerOutput<Output>> => {
      const result = await next(args);
      const response = result.response as { headers?: Record<string, string> };
      if (response.headers !== undefined) response.headers = fromCosResponseHeaders(response.headers);
      return result;
    },
    // Inside the deserializer: it sees the renamed headers.
    { relation: 'after', toMiddleware: 'deserializerMiddleware', name: 'cosyncCosResponseHeaders' },
  );
}
