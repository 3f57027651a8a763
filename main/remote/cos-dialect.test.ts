import { describe, expect, it } from 'vitest';
import { fromCosResponseHeaders, toCosRequestHeaders } from './cos-dialect.js';

describe('COS header dialect', () => {
  it('names the copy source by the bucket host, as COS expects', () => {
    expect(toCosRequestHeaders({ 'x-amz-copy-source': 'photos-1250000000/a/b.txt' }, 'photos-1250000000.cos.ap-guangzhou.myqcloud.com')).toEqual({
      'x-cos-copy-source': 'photos-1250000000.cos.ap-guangzhou.myqcloud.com/a/b.txt',
    });
  });

  it('keeps signing headers and renames encryption and metadata headers both ways', () => {
    const sent = toCosRequestHeaders(
      { 'x-amz-date': 'd', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-meta-cosync-mtime': '1' },
      'h',
    );
    expect(sent).toEqual({ 'x-amz-date': 'd', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-cos-server-side-encryption': 'cos/kms', 'x-cos-meta-cosync-mtime': '1' });
    expect(fromCosResponseHeaders({ 'x-cos-server-side-encryption': 'cos/kms', 'x-cos-meta-a': 'b' })).toMatchObject({ 'x-amz-server-side-encryption': 'aws:kms', 'x-amz-meta-a': 'b' });
  });
});
