import { describe, expect, it } from 'vitest';
import { fromCosResponseHeaders, toCosRequestHeaders } from './cos-dialect.js';

const SOURCE_HOST = 'photos-1250000000.cos.ap-guangzhou.myqcloud.com';

describe('COS header dialect', () => {
  it('names the copy source by the host it is given (bucket and region), as COS expects', () => {
    // PUT Object - Copy: x-cos-copy-source: <Bucket-APPID>.cos.<Region>.myqcloud.com/<Key> (https://cloud.tencent.com/document/product/436/10881).
    expect(toCosRequestHeaders({ 'x-amz-copy-source': 'photos-1250000000/a/b.txt' }, SOURCE_HOST)).toEqual({
      'x-cos-copy-source': 'photos-1250000000.cos.ap-guangzhou.myqcloud.com/a/b.txt',
    });
  });

  it('sends the metadata directive as Copy or Replaced and the storage class under its COS name', () => {
    // Same document: x-cos-metadata-directive takes Copy or Replaced; any other value is InvalidArgument.
    expect(toCosRequestHeaders({ 'x-amz-metadata-directive': 'COPY' }, SOURCE_HOST)).toEqual({ 'x-cos-metadata-directive': 'Copy' });
    expect(toCosRequestHeaders({ 'x-amz-metadata-directive': 'REPLACE', 'x-amz-storage-class': 'ARCHIVE' }, SOURCE_HOST)).toEqual({ 'x-cos-metadata-directive': 'Replaced', 'x-cos-storage-class': 'ARCHIVE' });
    expect(fromCosResponseHeaders({ 'x-cos-storage-class': 'STANDARD_IA' })).toMatchObject({ 'x-amz-storage-class': 'STANDARD_IA' });
  });

  it('keeps signing headers and renames encryption and metadata headers both ways', () => {
    const sent = toCosRequestHeaders(
      { 'x-amz-date': 'd', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-meta-cosync-mtime': '1' },
      SOURCE_HOST,
    );
    expect(sent).toEqual({ 'x-amz-date': 'd', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-cos-server-side-encryption': 'cos/kms', 'x-cos-meta-cosync-mtime': '1' });
    expect(fromCosResponseHeaders({ 'x-cos-server-side-encryption': 'cos/kms', 'x-cos-meta-a': 'b' })).toMatchObject({ 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-meta-a': 'b' });
  });
});
